package components

import (
	"fmt"
	"maps"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// The knobs of the HPE Nimble CSI driver (roles/hpe_nimble_csi: its
// defaults, and the credentials its tasks assert): the array's address and
// credentials, the access protocol of the StorageClass general and the
// parameters laid over the role's. They are checked when csi_driver is
// hpe-nimble (the component is enabled): checkHPENimble requires the
// credentials, as the role's first assert does. The password's knob name
// marks it as a secret (IsSecretKnob): no problem shows it. The role's
// hpe_nimble_csi_helm_release_name and _namespace are the component's
// release knobs (releaseKnobs), its hpe_nimble_csi_helm_values are laid
// over its values.
var (
	hpeNimbleKnobs = knobsOf("hpe-csi-driver")

	hpeNimbleBackend  = hpeNimbleKnobs.str("hpe_nimble_csi_backend", "")
	hpeNimbleUsername = hpeNimbleKnobs.str("hpe_nimble_csi_username", "")
	hpeNimblePassword = hpeNimbleKnobs.str("hpe_nimble_csi_password", "")
	// The role's second assert: iscsi or fc, anything else refused.
	hpeNimbleAccessProtocol = hpeNimbleKnobs.choice("hpe_nimble_csi_access_protocol", "iscsi", []string{"iscsi", "fc"}, nil, nil)
	hpeNimbleParameters     = add(hpeNimbleKnobs, stringMapping("hpe_nimble_csi_storageclass_parameters",
		"a mapping of strings (a StorageClass's parameters are strings: quote a number or a boolean)"))
)

// hpeNimbleRequired are the knobs the role asserts are set and not empty
// before it deploys anything.
var hpeNimbleRequired = []knob[string]{hpeNimbleBackend, hpeNimbleUsername, hpeNimblePassword}

func init() { hpeNimbleKnobs.check(checkHPENimble) }

// checkHPENimble finds the credentials the inventory does not set (or
// sets empty), each a problem naming its knob: the role's assert, made
// before the run. A value of the wrong type is its knob's own problem.
func checkHPENimble(vars map[string]any) []KnobProblem {
	var out []KnobProblem
	for _, k := range hpeNimbleRequired {
		if v, set := vars[k.name]; set && v != nil {
			if _, ok := k.conv(v); !ok {
				continue
			}
		}
		if k.in(vars) == "" {
			out = append(out, KnobProblem{Key: k.name, Message: hpeNimbleNotSet})
		}
	}
	return out
}

// hpeNimbleNotSet is the problem of a credential the role requires.
const hpeNimbleNotSet = "required with csi_driver hpe-nimble (the role asserts it), and not set or empty"

// stringMapping declares a knob that takes a mapping whose values are all
// strings (none by default); want says so.
func stringMapping(name, want string) knob[map[string]any] {
	return knob[map[string]any]{name: name, want: want, conv: func(v any) (map[string]any, bool) {
		x, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		for _, item := range x {
			if _, ok := item.(string); !ok {
				return nil, false
			}
		}
		return x, true
	}}
}

// The names the HPE Nimble CSI driver's role gives: its release (and the
// component's name), its namespace and the Secret of the array's
// credentials.
const (
	hpeNimbleRelease   = "hpe-csi-driver"
	hpeNimbleNamespace = "kube-system"
	hpeNimbleSecret    = "hpe-nimble-csi-secret"
)

// hpeCSIDriver declares hpe-csi-driver: HPE's CSI driver chart with its
// Nimble CSP alone, as atmosphere's hpe_nimble_csi role deploys it
// (release hpe-csi-driver in kube-system, the role's values), in place of
// csi when csi_driver is hpe-nimble (roles/csi/meta/main.yml): it is
// enabled for that driver only. The component is named as its release and
// chart (what `helm list` and the chart catalogue show), the role's
// variables being hpe_nimble_csi_* (roleVars). After the release it
// applies, as the role does, the Secret of the array's credentials and the
// StorageClass general (the default class, csi.hpe.com's), which the
// components claiming volumes name and need it for (storageProviders). Its
// estimate is not measured: that of csi, the component it stands in for.
func hpeCSIDriver() *Component {
	c := enabledWhen(withKinds(release("hpe-csi-driver", hpeNimbleRelease, hpeNimbleNamespace,
		chart("hpe-csi-driver"), 7, needs("kubernetes"), nil), Manifest),
		func(c Config) bool { return c.csiDriver() == CSIDriverHPENimble })
	c.roleVars = "hpe_nimble_csi" // hpe_nimble_csi_helm_release_name, _namespace, _helm_values
	c.values = hpeCSIDriverValues
	c.objects = hpeCSIDriverObjects
	return c
}

// hpeCSIDriverImages are the chart's images (its values' images) by the
// image table's keys (the role's atmosphere_images[...]).
var hpeCSIDriverImages = map[string]string{
	"csiControllerDriver":       "hpe_csi_controller_driver",
	"csiNodeDriver":             "hpe_csi_node_driver",
	"nimbleCSP":                 "hpe_csi_nimble_csp",
	"nfsProvisioner":            "hpe_csi_nfs_provisioner",
	"csiExtensions":             "hpe_csi_extensions",
	"csiVolumeGroupProvisioner": "hpe_csi_volume_group_provisioner",
	"csiVolumeGroupSnapshotter": "hpe_csi_volume_group_snapshotter",
	"csiVolumeMutator":          "hpe_csi_volume_mutator",
	"csiAttacher":               "hpe_csi_attacher",
	"csiNodeDriverRegistrar":    "hpe_csi_node_driver_registrar",
	"csiProvisioner":            "hpe_csi_provisioner",
	"csiResizer":                "hpe_csi_resizer",
	"csiSnapshotter":            "hpe_csi_snapshotter",
}

// hpeCSIDriverValues are hpe-csi-driver's own values for its chart (the
// role's _hpe_nimble_csi_helm_values): its static values (the CSPs but
// Nimble's disabled, no pre-install hook) with the images from the table.
// The operator's hpe_nimble_csi_helm_values are laid over them, as over
// every component's own values.
func hpeCSIDriverValues(r *Render) values.Values {
	imgs := map[string]any{}
	for field, key := range hpeCSIDriverImages {
		imgs[field] = r.image(key).String()
	}
	return merge(r.static("hpe-csi-driver"), values.Values{"images": imgs})
}

// hpeCSIDriverObjects are the objects hpe-csi-driver applies after its
// release, as the role's "Create Secret and StorageClass" task applies
// them, in its order (hpe-csi-driver.objects.yaml, with what the settings
// give): the Secret hpe-nimble-csi-secret of the CSP's service and the
// array's backend, username and password, then the StorageClass general,
// whose parameters are the role's (the file system, the access protocol,
// that Secret for each of the CSI calls that take one) with the
// inventory's hpe_nimble_csi_storageclass_parameters laid over them.
func hpeCSIDriverObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("hpe-csi-driver")
	if err != nil {
		return nil, err
	}
	r := &Render{Settings: s}
	for _, o := range objs {
		switch o.GetKind() {
		case "Secret":
			data, ok := o.Object["stringData"].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("hpe-csi-driver.objects.yaml: Secret %s has no stringData", o.GetName())
			}
			// backend, username, password: the knobs' names without
			// the role's prefix.
			for _, k := range hpeNimbleRequired {
				data[strings.TrimPrefix(k.name, "hpe_nimble_csi_")] = hpeNimbleRequiredValue(r, k)
			}
		case "StorageClass":
			params, ok := o.Object["parameters"].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("hpe-csi-driver.objects.yaml: StorageClass %s has no parameters", o.GetName())
			}
			params["accessProtocol"] = hpeNimbleAccessProtocol.get(r)
			for _, call := range []string{"controller-publish", "node-publish", "node-stage", "provisioner"} {
				params["csi.storage.k8s.io/"+call+"-secret-name"] = hpeNimbleSecret
				params["csi.storage.k8s.io/"+call+"-secret-namespace"] = hpeNimbleNamespace
			}
			maps.Copy(params, hpeNimbleParameters.get(r))
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	return afterRelease(objs), nil
}

// hpeNimbleRequiredValue is a credential the role requires: its value, and
// r's error when it is not set (checkHPENimble refuses that before the
// run).
func hpeNimbleRequiredValue(r *Render, k knob[string]) string {
	v := k.get(r)
	if v == "" {
		r.fail(r.knobError(k.name, hpeNimbleNotSet))
	}
	return v
}
