package components

import "github.com/vexxhost/atmosphere-go/components/values"

// certManager declares cert-manager, with what it renders.
func certManager() *Component {
	c := release("cert-manager", "cert-manager", "cert-manager",
		chart("cert-manager"),
		31, needs("kubernetes"), nil)
	c.roleVars = noRoleVars // the role declares no release name or namespace
	c.values = certManagerValues
	return c
}

// certManagerValues are cert-manager's own values for its chart: its static
// values with the images of the controller and of each part.
func certManagerValues(r *Render) values.Values {
	return merge(r.static("cert-manager"), values.Values{
		"image":           r.repositoryImage("cert_manager_controller"),
		"webhook":         map[string]any{"image": r.repositoryImage("cert_manager_webhook")},
		"cainjector":      map[string]any{"image": r.repositoryImage("cert_manager_cainjector")},
		"startupapicheck": map[string]any{"image": r.repositoryImage("cert_manager_startupapicheck")},
		"acmesolver":      map[string]any{"image": r.repositoryImage("cert_manager_acmesolver")},
	})
}
