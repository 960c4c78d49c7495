package components

import (
	"context"
	"time"
)

// glanceImages declares glance-images.
func glanceImages() *Component {
	c := timeout(one("glance-images", OpenStack, "setup", 60, needs("glance"), nil), 30*time.Minute)
	c.setup = glanceImagesSetup
	return c
}

// glanceImagesSetup uploads the inventory's images (glance_images), two
// at a time.
func glanceImagesSetup(ctx context.Context, s *Setup) (bool, error) {
	_, changed, err := uploads(ctx, s, s.Settings.Setup.Images)
	return changed, err
}
