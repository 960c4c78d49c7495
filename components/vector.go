package components

import "github.com/vexxhost/atmosphere-go/components/values"

// vector declares vector, with what it renders.
func vector() *Component {
	c := release("vector", "vector", monitoring, chart("vector"), 6, needs("loki"), kubeAPI)
	c.values = vectorValues
	return c
}

// vectorValues are vector's own values for its chart: its static values
// with the image.
func vectorValues(r *Render) values.Values {
	return merge(r.static("vector"), values.Values{"image": r.repositoryImage("vector")})
}
