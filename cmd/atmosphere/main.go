// Command atmosphere deploys an OpenStack cloud on Kubernetes.
package main

import "github.com/vexxhost/atmosphere-go/cmd"

func main() { cmd.Main() }
