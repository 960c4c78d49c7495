# atmosphere: build, test and the local test environment.
#
#   make build          bin/atmosphere
#   make test           unit and integration tests against a kwok cluster,
#                       keystone and ansible started here (and stopped after,
#                       unless they were already up)
#   make bench          benchmarks beside helmfile, helm and ansible (docs/benchmarks.md)
#   make tools          build the control-plane binaries (cached)
#   make ansible        atmosphere's ansible-core and collection for the Ansible
#                       units (a cached virtualenv; make test-env-up makes it too)
#   make test-env-up    start the test environment (kwok cluster, keystone, the OpenStack APIs, Keycloak, RabbitMQ, MariaDB)
#   make test-env-down  stop it and remove its state

SHELL := /bin/bash
GO ?= go

# Built tools (and downloaded distributions) live in a cache outside the
# clone, keyed by what they were built from, so that a new clone (CI's)
# reuses them: $(XDG_CACHE_HOME or ~/.cache)/atmosphere/tools, or
# ATMOSPHERE_TOOLS_DIR. The test environment's state (cluster, keystone,
# logs, the env file) is the clone's own, under .cache/ (ATMOSPHERE_STATE_DIR).
CACHE_DIR := $(CURDIR)/.cache
USER_CACHE_DIR := $(if $(XDG_CACHE_HOME),$(XDG_CACHE_HOME),$(HOME)/.cache)/atmosphere
export ATMOSPHERE_TOOLS_DIR ?= $(USER_CACHE_DIR)/tools
export ATMOSPHERE_STATE_DIR ?= $(CACHE_DIR)
TOOLS_BIN := $(ATMOSPHERE_TOOLS_DIR)/bin

KUBERNETES_VERSION := v1.34.4
ETCD_VERSION := v3.6.4
KWOK_VERSION := v0.7.0
HELM_VERSION := v3.22.0
HELM_STAMP := $(TOOLS_BIN)/.helm-$(HELM_VERSION)
HELMFILE_VERSION := v1.8.0
HELMFILE_HASH := $(shell cat hack/helmfile/go.mod hack/helmfile/go.sum | sha256sum | cut -c1-12)
HELMFILE_STAMP := $(TOOLS_BIN)/.helmfile-$(HELMFILE_VERSION)-$(HELMFILE_HASH)
# Stamps name the content they were built from, not a file's time: a fresh
# clone (newer files) reuses a cached tools directory.
TOOLS_HASH := $(shell cat hack/tools/go.mod hack/tools/go.sum | sha256sum | cut -c1-12)
TOOLS_STAMP := $(TOOLS_BIN)/.built-k8s-$(KUBERNETES_VERSION)-etcd-$(ETCD_VERSION)-kwok-$(KWOK_VERSION)-$(TOOLS_HASH)
# The control plane reports this version (charts check kubeVersion).
KUBE_LDFLAGS := $(foreach p,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
	-X $(p).gitVersion=$(KUBERNETES_VERSION) -X $(p).gitMajor=1 -X $(p).gitMinor=34 -X $(p).gitTreeState=clean)

TESTENV_FILE = $(ATMOSPHERE_STATE_DIR)/testenv.env
NODES ?= 3
BENCHTIME ?= 1s

.PHONY: all build test unit lint bench bench-go fuzz fidelity-references fidelity-keycloak tools ansible test-env-up test-env-down demo clean

# How long `make fuzz` runs each fuzz test, and `make test` (bounded, for CI).
FUZZTIME ?= 2m
CI_FUZZTIME ?= 15s
# The fault suite (faults/) deploys the whole cloud some fifty times.
TEST_TIMEOUT ?= 80m

all: build

build:
	$(GO) build -o bin/atmosphere ./cmd/atmosphere

lint:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi

tools: $(TOOLS_STAMP) $(HELM_STAMP)

# The helm CLI is only for tests that check our releases are ordinary Helm
# releases (helm list, history, rollback); atmosphere never runs it.
$(HELM_STAMP):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	rm -f $(TOOLS_BIN)/.helm-*
	touch $@

$(TOOLS_STAMP):
	@mkdir -p $(TOOLS_BIN)
	@echo "building kube-apiserver, kube-controller-manager, kube-scheduler $(KUBERNETES_VERSION), etcd $(ETCD_VERSION), kwok $(KWOK_VERSION) into $(TOOLS_BIN)"
	cd hack/tools && for t in kube-apiserver kube-controller-manager kube-scheduler; do \
		$(GO) build -ldflags "$(KUBE_LDFLAGS)" -o $(TOOLS_BIN)/$$t k8s.io/kubernetes/cmd/$$t || exit 1; done
	cd hack/tools && $(GO) build -o $(TOOLS_BIN)/etcd ./etcd
	GOBIN=$(TOOLS_BIN) $(GO) install sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION) sigs.k8s.io/kwok/cmd/kwokctl@$(KWOK_VERSION)
	rm -f $(TOOLS_BIN)/.built-*
	touch $@

# The ansible that runs the Ansible units in the tests (and, with
# --ansible-playbook and --collections-path, in a deploy from this clone):
# the ansible-core and Python requirements atmosphere's collection names
# (../shared/atmosphere/requirements.txt; ansible-core 2.15 to 2.18, Debian's
# is 2.14), from PyPI, in a virtualenv under $(USER_CACHE_DIR)/ansible keyed
# by those requirements, and ../shared/atmosphere as the collection
# vexxhost.atmosphere (a symlink in $(USER_CACHE_DIR)/ansible/collections,
# without its dependencies). It prints ATMOSPHERE_TEST_ANSIBLE (the
# virtualenv's bin/) and ATMOSPHERE_TEST_COLLECTIONS, which test-env-up
# writes into the env file too.
ansible:
	$(GO) run ./hack/testenv ansible

test-env-up: tools
	$(GO) run ./hack/testenv up --nodes $(NODES)

test-env-down:
	$(GO) run ./hack/testenv down

# The whole suite runs against the real parts. An environment that was
# already up is reused and left up; one started here is stopped after. The
# OpenStack APIs, Keycloak and RabbitMQ are started by the first test that
# needs them (in parallel with the packages that do not), not here. Keycloak
# (org.keycloak:keycloak-quarkus-dist from Maven Central, unzipped once
# under $(USER_CACHE_DIR)/keycloak) needs Java 21 or later: JAVA_HOME when
# it is one, else the newest JDK under /usr/lib/jvm (a JAVA_HOME of Java
# 17, Debian's default, is passed over).
test: lint tools
	@was_up=; $(GO) run ./hack/testenv status >/dev/null 2>&1 && was_up=1; \
	$(GO) run ./hack/testenv up --nodes $(NODES) --openstack=false --keycloak=false --rabbitmq=false --mariadb=false || exit 1; \
	set -a; . $(TESTENV_FILE); set +a; \
	export ATMOSPHERE_FAULTS_SUMMARY=$(CACHE_DIR)/faults-summary.txt; rm -f $$ATMOSPHERE_FAULTS_SUMMARY; \
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./... && \
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(CI_FUZZTIME); status=$$?; \
	if [ -f $$ATMOSPHERE_FAULTS_SUMMARY ]; then echo "fault suite:"; sed 's/^/  /' $$ATMOSPHERE_FAULTS_SUMMARY; fi; \
	if [ -z "$$was_up" ]; then $(GO) run ./hack/testenv down || status=1; fi; \
	exit $$status

# Unit tests only need no environment: the packages that need the real
# parts start their own when the environment is not up.
unit:
	$(GO) test -race -count=1 ./dag/... ./components/... ./cmd/...

# Each native fuzz test for FUZZTIME (make test runs them for CI_FUZZTIME).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzMerge$$' -fuzztime $(FUZZTIME) ./components/values
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./inventory

# The benchmarks side by side with helmfile, the helm CLI and ansible, on
# kwok clusters of their own; writes docs/benchmarks.md.
BENCH_FLAGS ?=
bench: tools $(HELMFILE_STAMP)
	$(GO) run ./hack/bench --helm $(TOOLS_BIN)/helm --helmfile $(TOOLS_BIN)/helmfile --out docs/benchmarks.md $(BENCH_FLAGS)

# The reference values (and objects) of atmosphere's roles, rendered by
# ansible-core with the collections' own plugins from a virtualenv kept in
# $XDG_CACHE_HOME/atmosphere/fidelity (made when missing), for the golden
# tests (hack/fidelity/README.md); committed under testdata/fidelity. The OVN
# run's components are internal/kubephase/fidelity_test.go's ovnComponents; the
# csi_driver local-path-provisioner run renders that driver's components
# (localPathComponents), the csi_driver hpe-nimble run that driver's
# (hpeNimbleComponents); the storpool and ibm-block runs their manifest
# components' objects (storpoolComponents, ibmBlockComponents), the portworx
# run portworx's objects (portworxComponents).
fidelity-references:
	$(GO) run ./hack/fidelity
	$(GO) run ./hack/fidelity --network-backend ovn --out testdata/fidelity/values-ovn --components libvirt,magnum,neutron,nova,ovn
	$(GO) run ./hack/fidelity --csi-driver local-path-provisioner --out testdata/fidelity/values-local-path-provisioner
	$(GO) run ./hack/fidelity --csi-driver hpe-nimble --out testdata/fidelity/values-hpe-nimble
	$(GO) run ./hack/fidelity --csi-driver storpool --out testdata/fidelity/values-storpool
	$(GO) run ./hack/fidelity --csi-driver ibm-block --out testdata/fidelity/values-ibm-block
	$(GO) run ./hack/fidelity --csi-driver portworx --out testdata/fidelity/values-portworx
	$(GO) run ./hack/fidelity --issuers testdata/fidelity/issuers

# What atmosphere's roles make in Keycloak: their community.general.keycloak_*
# tasks (keystone's and kube_prometheus_stack's, read from
# ../shared/atmosphere at run time) run by the test ansible against a fresh
# Keycloak of the test bed, read back through the admin API and normalized
# (internal/keycloakdump) into testdata/fidelity/keycloak/<realm>.json
# (hack/keycloakref/README.md).
fidelity-keycloak:
	$(GO) run ./hack/keycloakref --inventory testdata/inventories/kwok --out testdata/fidelity/keycloak

# Only the Go benchmarks (the scheduler, the registry).
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./dag/... ./components/...

# helmfile, for `make bench` only (its go.mod has replace directives, so it
# is built from a module of ours, hack/helmfile).
$(HELMFILE_STAMP):
	@mkdir -p $(TOOLS_BIN)
	cd hack/helmfile && $(GO) build -o $(TOOLS_BIN)/helmfile github.com/helmfile/helmfile
	rm -f $(TOOLS_BIN)/.helmfile-*
	touch $@

# The demo deploys every component of the kwok inventory that needs no
# real host, with atmosphere's real charts, onto the test cluster, and runs
# every OpenStack set-up unit against the test bed's keystone and its
# Debian nova, placement, neutron, glance and cinder APIs (testenv up
# starts them): the deploy's cloud is their clouds.yaml, whose region
# (atmosphere-testbed) is where they are registered. Its inventory,
# testdata/inventories/demo, is the kwok one with flavors and a provider
# network for nova and neutron to make, and every image URL
# (glance_images, octavia_amphora_image_url, manila_image_url,
# magnum_images) on a loopback server that `testenv images` starts for
# the deploy, serving tiny raw and qcow2 images made by qemu-img (no
# internet here). The database and queue units (keycloak's database and
# strict mode, and each OpenStack service's database and RabbitMQ user and
# vhost, made in place of its chart's db-init and rabbit-init Jobs) run
# too, against the test bed's MariaDB and RabbitMQ in place of the Percona
# XtraDB cluster's and the RabbitMQ clusters' Services, which on kwok have
# no pod behind them: `testenv provide` copies DEMO_INVENTORY to
# DEMO_INVENTORY_COPY (under .cache/, never committed) with their addresses
# (atmosphere_database_address, atmosphere_rabbitmq_address) and the
# RabbitMQ users' passwords the tests share that server with, and puts the
# MariaDB's root password in the cluster's Secret openstack/percona-xtradb;
# the stand-in operators make each RabbitmqCluster's default user in the
# RabbitMQ, as the operator would. The deploy reads the copy. DEMO_SKIP
# (units left out with --skip-tags) is empty: every unit can run. The
# hosts, the cluster and Ceph are the test bed's, so the Ansible units are
# reported provided (DEMO_HOSTS: --hosts-provided; the kwok inventory says
# atmosphere_hosts_provided: true too) and the demo needs no ansible.
# DEMO_HOSTS= with an inventory of real hosts runs them. After the deploy,
# hack/democheck lists the cloud with Debian's openstack command and the
# same clouds.yaml, checks each listing against the inventory, and writes
# them to docs/demo/openstack-*.txt. The test bed's Keycloak is started
# too (testenv up; ATMOSPHERE_TEST_KEYCLOAK_* in the env file) for the
# single sign-on set-up.
DEMO_INVENTORY ?= testdata/inventories/demo
DEMO_INVENTORY_COPY ?= $(CACHE_DIR)/demo-inventory
DEMO_SKIP ?=
DEMO_FLAGS ?=
DEMO_HOSTS ?= --hosts-provided
DEMO_CHECK_OUT ?= docs/demo
SHARED_CHARTS ?= ../shared/atmosphere/charts

demo: build tools
	$(GO) run ./hack/testenv up --nodes $(NODES)
	$(GO) build -o $(CACHE_DIR)/testenv ./hack/testenv
	$(GO) build -o $(CACHE_DIR)/democheck ./hack/democheck
	@set -a; . $(TESTENV_FILE); set +a; \
	$(CACHE_DIR)/testenv provide --inventory $(DEMO_INVENTORY) --out $(DEMO_INVENTORY_COPY) || exit 1; \
	$(CACHE_DIR)/testenv standins >/dev/null & standins=$$!; \
	trap 'kill $$standins 2>/dev/null' EXIT; \
	start=$$(date +%s); \
	OS_CLIENT_CONFIG_FILE=$$ATMOSPHERE_TEST_OPENSTACK_CLOUDS $(CACHE_DIR)/testenv images -- ./bin/atmosphere deploy \
		--inventory $(DEMO_INVENTORY_COPY) --kubeconfig $$ATMOSPHERE_TEST_KUBECONFIG --os-cloud atmosphere-test \
		--charts $(SHARED_CHARTS) --charts testdata/charts $(if $(DEMO_SKIP),--skip-tags $(DEMO_SKIP)) $(DEMO_HOSTS) $(DEMO_FLAGS); \
	status=$$?; echo "make demo: the deploy took $$(( $$(date +%s) - start ))s"; \
	if [ $$status -eq 0 ]; then \
		$(CACHE_DIR)/democheck --clouds $$ATMOSPHERE_TEST_OPENSTACK_CLOUDS --inventory $(DEMO_INVENTORY_COPY) --out $(DEMO_CHECK_OUT); status=$$?; \
	fi; exit $$status

clean: test-env-down
	rm -rf bin
