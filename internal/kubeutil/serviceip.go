package kubeutil

import "net/netip"

// StaticServiceBand is the first and last address of the lower band of a
// Service range (KEP-3070): the API server gives Services without a fixed
// IP addresses from above it and takes from it only when the rest is
// full, so a fixed cluster IP chosen in it does not collide with a
// Service made earlier. The band is min(max(16, size/16), 256) addresses
// after the range's network address; ok is false for a range of 16
// addresses or fewer, which has none.
func StaticServiceBand(r netip.Prefix) (first, last netip.Addr, ok bool) {
	r = r.Masked()
	hostBits := r.Addr().BitLen() - r.Bits()
	const minBand, maxBand, step = 16, 256, 16
	if hostBits <= 4 { // 16 addresses or fewer
		return netip.Addr{}, netip.Addr{}, false
	}
	band := maxBand
	if hostBits < 12 { // size/16 below 256
		band = max(minBand, (1<<hostBits)/step)
	}
	first = r.Addr().Next()
	last = first
	for range band - 1 {
		last = last.Next()
	}
	return first, last, true
}
