// Package charts names the Helm charts atmosphere deploys: a reference to
// each (name and pinned version) and, in time, where to fetch it and the
// digest it must have.
package charts
