package components

import "github.com/vexxhost/atmosphere-go/components/values"

// goldpinger declares goldpinger, with what it renders.
func goldpinger() *Component {
	c := release("goldpinger", "goldpinger", monitoring, chart("goldpinger"), 6, needs("kubernetes"), kubeAPI)
	c.values = goldpingerValues
	return c
}

// goldpingerValues are goldpinger's own values for its chart: its static
// values with the image's repository.
func goldpingerValues(r *Render) values.Values {
	return merge(r.static("goldpinger"), values.Values{
		"image": map[string]any{"repository": r.image("goldpinger").Name()},
	})
}
