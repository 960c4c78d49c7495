// Command democheck checks the cloud make demo deployed as an operator
// would: Debian's openstack command, with the clouds.yaml the deploy used,
// lists the catalog, flavors, octavia's management network, subnet,
// security groups and rules, the health-manager ports and their hosts,
// the images and the admin project's quotas (internal/cloudcheck); each
// listing is checked against what the inventory asks for and written, as
// the command prints it, to OUT/openstack-<what>.txt. It exits 1 when a
// check fails (the listings are written all the same), 2 on bad flags.
//
//	go run ./hack/democheck --clouds FILE --inventory DIR [--cloud NAME] [--out DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/cloudcheck"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fs := flag.NewFlagSet("democheck", flag.ContinueOnError)
	clouds := fs.String("clouds", os.Getenv("OS_CLIENT_CONFIG_FILE"), "the clouds.yaml the deploy used")
	cloud := fs.String("cloud", "atmosphere-test", "the cloud of the clouds.yaml")
	inv := fs.String("inventory", "testdata/inventories/demo", "the inventory the deploy used")
	out := fs.String("out", "docs/demo", "where the listings are written")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *clouds == "" {
		fmt.Fprintln(os.Stderr, "democheck: --clouds: required (or OS_CLIENT_CONFIG_FILE)")
		os.Exit(2)
	}
	if err := run(ctx, cloudcheck.Client{Clouds: *clouds, Cloud: *cloud}, *inv, *out); err != nil {
		fmt.Fprintf(os.Stderr, "democheck: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c cloudcheck.Client, inv, out string) error {
	start := time.Now()
	want, err := cloudcheck.WantOf(inv, nil)
	if err != nil {
		return err
	}
	listings, checkErr := cloudcheck.Run(ctx, c, want)
	files := map[string]*strings.Builder{}
	var order []string
	for _, l := range listings {
		b := files[l.File]
		if b == nil {
			b = &strings.Builder{}
			files[l.File] = b
			order = append(order, l.File)
		}
		fmt.Fprintf(b, "$ openstack %s\n%s\n", strings.Join(l.Args, " "), l.Table)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, name := range order {
		path := filepath.Join(out, "openstack-"+name+".txt")
		if err := os.WriteFile(path, []byte(files[name].String()), 0o644); err != nil {
			return err
		}
		fmt.Printf("democheck: wrote %s\n", path)
	}
	if checkErr != nil {
		return fmt.Errorf("the cloud is not what %s asks for:\n%w", inv, checkErr)
	}
	fmt.Printf("democheck: the openstack command found what %s asks for (%d services in the catalog of %s, %d flavors, %d images, %d health-manager ports bound to their hosts) in %s\n",
		inv, len(want.Catalog), want.Region, len(want.Flavors), len(want.Images), len(want.Controllers), time.Since(start).Round(time.Millisecond))
	return nil
}
