package components

import (
	"time"
)

// glanceImages declares glance-images.
func glanceImages() *Component {
	return timeout(one("glance-images", OpenStack, "setup", 60, needs("glance"), nil), 30*time.Minute)
}
