package components

import (
	"embed"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The knobs portworx reads (roles/portworx/defaults/main.yml names both
// and gives neither a default: the role's templates fail without them).
// With csi_driver portworx both are required (checkPortworx refuses the
// inventory before the run, naming each missing one).
var (
	portworxKnobs = knobsOf("portworx")
	// portworxPureJSON is the content of pure.json, the FlashArrays
	// Portworx's operator manages (their endpoints and API tokens): a
	// secret, never shown (IsSecretKnob). The role writes it with to_json,
	// which takes any value; Portworx reads a JSON object, so a mapping
	// is wanted.
	portworxPureJSON = portworxKnobs.mapping("portworx_pure_json", nil)
	// portworxSANType is the StorageCluster's PURE_FLASHARRAY_SAN_TYPE
	// (ISCSI, FC, NVMEOF-RDMA, …), given to Portworx as it is.
	portworxSANType = portworxKnobs.str("portworx_pure_flasharray_san_type", "")
)

func init() { portworxKnobs.check(checkPortworx) }

// checkPortworx finds, portworx being enabled (csi_driver portworx:
// CheckKnobs runs it only then), each of the role's two variables the
// inventory does not set (or sets empty); a value of the wrong type is
// the knob's own problem.
func checkPortworx(vars map[string]any) []KnobProblem {
	var out []KnobProblem
	if v, ok := vars[portworxPureJSON.name]; !ok || v == nil {
		out = append(out, KnobProblem{Key: portworxPureJSON.name,
			Message: "required with csi_driver portworx (pure.json of the px-pure-secret Secret: the FlashArrays and their API tokens), and not set"})
	}
	if v, ok := vars[portworxSANType.name]; !ok || v == nil || v == "" {
		out = append(out, KnobProblem{Key: portworxSANType.name,
			Message: "required with csi_driver portworx (the StorageCluster's PURE_FLASHARRAY_SAN_TYPE), and not set"})
	}
	return out
}

// PortworxCRD is the CustomResourceDefinition of StorageClusters, which
// Portworx's operator creates when it starts (not a chart's, not one of
// portworx's objects): the StorageCluster and the StorageClass are
// applied once it is there (Object.AwaitCRD).
const PortworxCRD = "storageclusters.core.libopenstorage.org"

// portworx declares portworx: Portworx on Pure FlashArrays as atmosphere's
// portworx role deploys it, in place of csi when csi_driver is portworx
// (roles/csi/meta/main.yml): it is enabled for that driver only, and its
// StorageClass general is the one the components claiming volumes name
// and need it for (storageProviders).
//
// Its first phase, host, is the role's host work, an Ansible play of our
// own shipped as data (portworx.host.yaml) on the controllers, the hosts
// atmosphere's csi playbook runs the role on: each host's iSCSI initiator
// gets a name (iscsi-iname) when /etc/iscsi/initiatorname.iscsi has none.
// The role's meta dependency, multipathd, comes first, as the role has it.
// With the hosts provided (atmosphere_hosts_provided) the phase is
// reported as provided, as every Ansible unit.
//
// Its second phase, install, applies its objects (portworxObjects) in the
// role's order: the namespace portworx, the operator, the Secret of
// pure.json; then it waits for the CRD the operator creates
// (PortworxCRD) — bounded by the component's timeout, 5 minutes as the
// role's 60 tries 5 s apart (--unit-timeout over it), failing with an
// error naming the CRD when it never comes — and applies the
// StorageCluster and the StorageClass general (provisioner
// pxd.portworx.com). Its estimate is not measured (the orchestrator's
// timings ran ceph-csi-rbd): that of csi, the component it stands in for,
// and 3 s for the host phase.
func portworx() *Component {
	c := enabledWhen(&Component{Name: "portworx", Kinds: []Kind{Ansible}, Namespace: "portworx", Timeout: 5 * time.Minute,
		Phases: []Phase{{Name: "host", Kind: Ansible, Needs: needs("multipathd"), Estimate: s(3)}}},
		func(c Config) bool { return c.csiDriver() == CSIDriverPortworx })
	c = then(c, Phase{Name: "install", Kind: Manifest, Needs: needs("kubernetes"), Resources: kubeAPI, Estimate: s(7)})
	c.Ansible = &AnsibleWork{Hosts: "controllers", Become: true, Tasks: portworxHostTasks()}
	c.objects = portworxObjects
	return c
}

//go:embed portworx.host.yaml
var portworxHostData embed.FS

// portworxHostTasks are the host phase's tasks, parsed from the embedded
// data; a broken file is a bug the registry's tests catch at once.
func portworxHostTasks() []map[string]any {
	raw, err := portworxHostData.ReadFile("portworx.host.yaml")
	if err != nil {
		panic(fmt.Sprintf("portworx host play: %v", err))
	}
	var tasks []map[string]any
	if err := yaml.Unmarshal(raw, &tasks); err != nil {
		panic(fmt.Sprintf("portworx host play: %v", err))
	}
	return tasks
}

// portworxObjects are the objects portworx applies, as data
// (portworx.objects.yaml), with the inventory's pure.json in Secret
// px-pure-secret (portworx_pure_json as the role's to_json writes it:
// pythonJSON) and its SAN type in the StorageCluster's
// PURE_FLASHARRAY_SAN_TYPE. The StorageCluster and the StorageClass wait
// for PortworxCRD (AwaitCRD). A knob missing or of the wrong type is an
// error naming it (CheckKnobs refuses it before any run).
func portworxObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("portworx")
	if err != nil {
		return nil, err
	}
	r := &Render{Settings: s}
	pure, pureSet := portworxPureJSON.lookup(r)
	san := portworxSANType.get(r)
	if r.err != nil {
		return nil, r.err
	}
	if !pureSet {
		return nil, r.knobError(portworxPureJSON.name, "required with csi_driver portworx, and not set")
	}
	if san == "" {
		return nil, r.knobError(portworxSANType.name, "required with csi_driver portworx, and not set")
	}
	content, err := pythonJSON(pure)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", portworxPureJSON.name, err)
	}
	filled := 0
	for i, o := range objs {
		switch o.GetKind() + "/" + o.GetName() {
		case "Secret/px-pure-secret":
			err = unstructured.SetNestedField(o.Object, content, "stringData", "pure.json")
			filled++
		case "StorageCluster/px-cluster-567cacc6-e39c-49da-9d35-2bafacfcf18c":
			err = unstructured.SetNestedSlice(o.Object, []any{map[string]any{"name": "PURE_FLASHARRAY_SAN_TYPE", "value": san}}, "spec", "env")
			filled++
		}
		if err != nil {
			return nil, fmt.Errorf("portworx.objects.yaml: %s %s: %w", o.GetKind(), o.GetName(), err)
		}
		if k := o.GetKind(); k == "StorageCluster" || k == "StorageClass" {
			objs[i].AwaitCRD = PortworxCRD
		}
	}
	if filled != 2 {
		return nil, fmt.Errorf("portworx.objects.yaml lacks the Secret px-pure-secret or the StorageCluster")
	}
	return objs, nil
}

// pythonJSON is v as Ansible's to_json filter writes it (Python's
// json.dumps with its defaults): ", " between items, ": " after keys,
// every character beyond ASCII escaped (\uXXXX, surrogate pairs above
// U+FFFF), a whole number without a fraction. Python keeps a mapping's
// keys in the order the YAML gave them, which a parsed inventory no
// longer knows: they are sorted here (the same JSON document, read by
// Portworx alike).
func pythonJSON(v any) (string, error) {
	var b strings.Builder
	if err := writePythonJSON(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writePythonJSON(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		writePythonString(b, x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%v is no JSON number", x)
		}
		if x == math.Trunc(x) && math.Abs(x) < 1e16 {
			b.WriteString(strconv.FormatFloat(x, 'f', 0, 64))
		} else {
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case []any:
		b.WriteByte('[')
		for i, item := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writePythonJSON(b, item); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(x)) {
			if i > 0 {
				b.WriteString(", ")
			}
			writePythonString(b, k)
			b.WriteString(": ")
			if err := writePythonJSON(b, x[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("a %T is not a JSON value", v)
	}
	return nil
}

// writePythonString writes s quoted as Python's json.dumps does with
// ensure_ascii.
func writePythonString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r <= 0xffff) || r == utf8.RuneError:
			fmt.Fprintf(b, `\u%04x`, r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
