package cmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vexxhost/atmosphere-go/action"
	"github.com/vexxhost/atmosphere-go/dag"
)

func (a *app) newGraph() *cobra.Command {
	var (
		config configFlags
		format string
		tags   []string
		whole  bool
	)
	c := &cobra.Command{
		Use:   "graph",
		Short: "Print the graph of units of work",
		Long: "Print every unit of work (a phase of a component) with what it needs, in\n" +
			"dependency order, as text, Graphviz dot or a Mermaid flowchart.",
		Example: "  atmosphere graph --format dot | dot -Tsvg > graph.svg\n  atmosphere graph --tags nova",
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := (&action.Graph{Config: a.config(&config), Tags: tags, WholeComponents: whole}).Run()
			if err != nil {
				return err
			}
			switch format {
			case "text":
				return writeText(a.streams.Out, g)
			case "dot":
				return writeDot(a.streams.Out, g)
			case "mermaid":
				return writeMermaid(a.streams.Out, g)
			}
			return usagef("--format %q: want text, dot or mermaid", format)
		},
	}
	c.Flags().StringVar(&format, "format", "text", "output format: text, dot or mermaid")
	c.Flags().BoolVar(&whole, "whole-components", false, "one unit per component instead of one per phase")
	tagsFlag(c.Flags(), &tags)
	config.addInventory(c.Flags())
	return c
}

func writeText(w io.Writer, g *dag.Graph[string]) error {
	order, err := g.TopologicalOrder()
	if err != nil {
		return err
	}
	width := 0
	for _, k := range order {
		width = max(width, len(k))
	}
	for _, k := range order {
		n, _ := g.Node(k)
		needs := "-"
		if len(n.Needs) > 0 {
			needs = strings.Join(n.Needs, ", ")
		}
		if _, err := fmt.Fprintf(w, "%-*s  needs %s\n", width, k, needs); err != nil {
			return err
		}
	}
	return nil
}

func writeDot(w io.Writer, g *dag.Graph[string]) error {
	var b strings.Builder
	b.WriteString("digraph atmosphere {\n  rankdir=LR;\n  node [shape=box];\n")
	for _, k := range g.Keys() {
		n, _ := g.Node(k)
		fmt.Fprintf(&b, "  %q [label=%q];\n", k, fmt.Sprintf("%s\n%s", k, n.Cost))
		for _, dep := range n.Needs {
			fmt.Fprintf(&b, "  %q -> %q;\n", dep, k)
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMermaid(w io.Writer, g *dag.Graph[string]) error {
	id := func(k string) string {
		return strings.NewReplacer(":", "__", "-", "_").Replace(k)
	}
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for _, k := range g.Keys() {
		fmt.Fprintf(&b, "  %s[\"%s\"]\n", id(k), k)
	}
	for _, k := range g.Keys() {
		n, _ := g.Node(k)
		for _, dep := range n.Needs {
			fmt.Fprintf(&b, "  %s --> %s\n", id(dep), id(k))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
