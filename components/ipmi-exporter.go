package components

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// The knobs ipmi-exporter reads (roles/ipmi_exporter/defaults/main.yml).
var (
	ipmiExporterKnobs = knobsOf("ipmi-exporter")
	// ipmiExporterConfig is the exporter's whole configuration (config.yml
	// of its ConfigMap); unset, it is the configuration of
	// ipmi-exporter.objects.yaml.
	ipmiExporterConfig = ipmiExporterKnobs.mapping("ipmi_exporter_config", nil)
)

// ipmiExporter declares ipmi-exporter, with what it renders.
func ipmiExporter() *Component {
	c := manifests("ipmi-exporter", monitoring, 5, needs("kube-prometheus-stack"), kubeAPI)
	c.objects = ipmiExporterObjects
	return c
}

// ipmiExporterObjects are the objects ipmi-exporter applies itself, as data
// (ipmi-exporter.objects.yaml): the exporter's configuration and its
// DaemonSet on the compute nodes. When the inventory sets
// ipmi_exporter_config, it is the configuration, written as YAML, and the
// DaemonSet's pods carry its MD5 as their config-hash annotation, as the
// role's, so that a change of it restarts them.
func ipmiExporterObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("ipmi-exporter")
	if err != nil {
		return nil, err
	}
	r := &Render{Settings: s}
	config, set := ipmiExporterConfig.lookup(r)
	if r.err != nil {
		return nil, r.err
	}
	if !set {
		return objs, nil
	}
	raw, err := yaml.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("ipmi_exporter_config: %w", err)
	}
	sum := md5.Sum(raw)
	done := 0
	for _, o := range objs {
		switch o.GetKind() + "/" + o.GetName() {
		case "ConfigMap/ipmi-exporter":
			err = unstructured.SetNestedField(o.Object, string(raw), "data", "config.yml")
		case "DaemonSet/ipmi-exporter":
			err = unstructured.SetNestedField(o.Object, hex.EncodeToString(sum[:]), "spec", "template", "metadata", "annotations", "config-hash")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ipmi_exporter_config in %s %s: %w", o.GetKind(), o.GetName(), err)
		}
		done++
	}
	if done != 2 {
		return nil, fmt.Errorf("ipmi_exporter_config: ipmi-exporter.objects.yaml lacks the ConfigMap or the DaemonSet ipmi-exporter")
	}
	return objs, nil
}
