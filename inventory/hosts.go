package inventory

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// hostsFile is a hosts file as Ansible's ini and yaml inventory plugins
// read it: groups with their own hosts, children and variables, and the
// variables set on hosts. Every variable carries where it was set
// ("hosts.ini:12").
type hostsFile struct {
	// groups by name; "all" and "ungrouped" always exist.
	groups map[string]*group
	// hosts in the order they first appear.
	hosts []string
	// hostVars are the variables set on each host, with their sources.
	hostVars map[string]layer
}

// group is one group of a hosts file.
type group struct {
	name     string
	hosts    []string // its own hosts, in order
	children []string // its child groups, in order
	vars     layer
}

// layer is a set of variables with the source of each.
type layer struct {
	vars    map[string]any
	sources map[string]string
}

func newLayer() layer { return layer{vars: map[string]any{}, sources: map[string]string{}} }

func (l *layer) set(key string, v any, source string) {
	if l.vars == nil {
		*l = newLayer()
	}
	l.vars[key] = v
	l.sources[key] = source
}

func newHostsFile() *hostsFile {
	h := &hostsFile{groups: map[string]*group{}, hostVars: map[string]layer{}}
	h.group("all")
	h.group("ungrouped")
	h.addChild("all", "ungrouped")
	return h
}

// group returns the group called name, made when new (a child of all).
func (h *hostsFile) group(name string) *group {
	if g, ok := h.groups[name]; ok {
		return g
	}
	g := &group{name: name, vars: newLayer()}
	h.groups[name] = g
	if name != "all" {
		h.addChild("all", name)
	}
	return g
}

func (h *hostsFile) addChild(parent, child string) {
	p := h.groups[parent]
	if !slices.Contains(p.children, child) {
		p.children = append(p.children, child)
	}
}

func (h *hostsFile) addHost(groupName, host string) {
	g := h.group(groupName)
	if !slices.Contains(g.hosts, host) {
		g.hosts = append(g.hosts, host)
	}
	if !slices.Contains(h.hosts, host) {
		h.hosts = append(h.hosts, host)
	}
	if _, ok := h.hostVars[host]; !ok {
		h.hostVars[host] = newLayer()
	}
}

// finish puts the hosts no group but all holds in ungrouped, and checks
// the children for cycles.
func (h *hostsFile) finish(file string) Problems {
	grouped := map[string]bool{}
	for name, g := range h.groups {
		if name != "all" && name != "ungrouped" {
			for _, host := range g.hosts {
				grouped[host] = true
			}
		}
	}
	all, ungrouped := h.groups["all"], h.groups["ungrouped"]
	ungrouped.hosts = slices.DeleteFunc(ungrouped.hosts, func(host string) bool { return grouped[host] })
	for _, host := range all.hosts {
		if !grouped[host] {
			h.addHost("ungrouped", host)
		}
	}
	all.hosts = nil
	// all's children besides ungrouped: the groups that are no other
	// group's child.
	isChild := map[string]bool{}
	for name, g := range h.groups {
		if name != "all" {
			for _, c := range g.children {
				isChild[c] = true
			}
		}
	}
	all.children = slices.DeleteFunc(all.children, func(c string) bool { return isChild[c] && c != "ungrouped" })
	if cycle := h.cycle(); cycle != nil {
		return Problems{{File: file, Message: "groups are children of one another: " + strings.Join(cycle, " → ")}}
	}
	return nil
}

// cycle returns a cycle of children, or nil.
func (h *hostsFile) cycle() []string {
	state := map[string]int{} // 1 visiting, 2 done
	var path []string
	var visit func(string) []string
	visit = func(name string) []string {
		switch state[name] {
		case 1:
			i := slices.Index(path, name)
			return append(slices.Clone(path[i:]), name)
		case 2:
			return nil
		}
		state[name] = 1
		path = append(path, name)
		for _, c := range h.groups[name].children {
			if cyc := visit(c); cyc != nil {
				return cyc
			}
		}
		path = path[:len(path)-1]
		state[name] = 2
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(h.groups)) {
		if cyc := visit(name); cyc != nil {
			return cyc
		}
	}
	return nil
}

// groupHosts are the hosts of a group with those of its children, as
// Ansible orders them (its own first, then each child's), each once.
func (h *hostsFile) groupHosts(name string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen["group "+n] {
			return
		}
		seen["group "+n] = true
		g := h.groups[n]
		for _, host := range g.hosts {
			if !seen[host] {
				seen[host] = true
				out = append(out, host)
			}
		}
		for _, c := range g.children {
			walk(c)
		}
	}
	walk(name)
	if name == "all" {
		// all holds every host, in the order they appear.
		return slices.Clone(h.hosts)
	}
	return out
}

// parents are the groups a group is a child of.
func (h *hostsFile) parents(name string) []string {
	var out []string
	for n, g := range h.groups {
		if slices.Contains(g.children, name) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// depth is a group's distance from all along its longest chain of parents,
// as Ansible counts it: all is 0, its children 1.
func (h *hostsFile) depth(name string) int {
	if name == "all" {
		return 0
	}
	d := 1
	for _, p := range h.parents(name) {
		if p != "all" {
			d = max(d, h.depth(p)+1)
		}
	}
	return d
}

// priority is the group's ansible_group_priority (set in the hosts file
// only, as Ansible reads it), 1 when unset.
func (h *hostsFile) priority(name string) int {
	switch v := h.groups[name].vars.vars["ansible_group_priority"].(type) {
	case float64:
		return int(v)
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return 1
}

// hostGroups are the groups a host is in, its own and their ancestors,
// without all, in the order Ansible applies their variables: by depth, then
// ansible_group_priority, then name.
func (h *hostsFile) hostGroups(host string) []string {
	in := map[string]bool{}
	var up func(string)
	up = func(n string) {
		if in[n] || n == "all" {
			return
		}
		in[n] = true
		for _, p := range h.parents(n) {
			up(p)
		}
	}
	for name, g := range h.groups {
		if slices.Contains(g.hosts, host) {
			up(name)
		}
	}
	out := slices.Collect(maps.Keys(in))
	slices.SortFunc(out, func(a, b string) int {
		if c := h.depth(a) - h.depth(b); c != 0 {
			return c
		}
		if c := h.priority(a) - h.priority(b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	return out
}

// hostRange matches the one range a host pattern may hold: [1:3],
// [01:10:2], [a:f].
var hostRange = regexp.MustCompile(`^(.*?)\[([0-9a-zA-Z]+):([0-9a-zA-Z]+)(?::([0-9]+))?\](.*)$`)

// maxRange bounds the hosts of one range: a cloud has thousands of hosts,
// not millions, and a range of millions is a typo.
const maxRange = 100000

// expandHosts expands the ranges of a host pattern ("ctl[1:3]", "ctl[01:03]",
// "db-[a:c]"), as Ansible does; a name without a range is itself.
func expandHosts(pattern string) ([]string, error) {
	m := hostRange.FindStringSubmatch(pattern)
	if m == nil {
		if strings.ContainsAny(pattern, "[]") {
			return nil, fmt.Errorf("host %q: a range is [start:end] or [start:end:step]", pattern)
		}
		return []string{pattern}, nil
	}
	head, start, end, stepText, tail := m[1], m[2], m[3], m[4], m[5]
	step := 1
	if stepText != "" {
		var err error
		if step, err = strconv.Atoi(stepText); err != nil || step < 1 {
			return nil, fmt.Errorf("host %q: the step must be 1 or more", pattern)
		}
	}
	var items []string
	if isDigits(start) && isDigits(end) {
		a, errA := strconv.Atoi(start)
		b, errB := strconv.Atoi(end)
		if errA != nil || errB != nil {
			return nil, fmt.Errorf("host %q: the range's bounds are too large", pattern)
		}
		if a > b {
			return nil, fmt.Errorf("host %q: the range's start is after its end", pattern)
		}
		if (b-a)/step >= maxRange {
			return nil, fmt.Errorf("host %q: more than %d hosts in one range", pattern, maxRange)
		}
		width := 0
		if len(start) > 1 && start[0] == '0' {
			width = len(start)
		}
		for i := a; i <= b; i += step {
			items = append(items, fmt.Sprintf("%0*d", width, i))
		}
	} else if len(start) == 1 && len(end) == 1 && unicode.IsLetter(rune(start[0])) && unicode.IsLetter(rune(end[0])) {
		if start > end {
			return nil, fmt.Errorf("host %q: the range's start is after its end", pattern)
		}
		for c := start[0]; c <= end[0]; c += byte(step) {
			items = append(items, string(c))
		}
	} else {
		return nil, fmt.Errorf("host %q: a range is of numbers or of single letters", pattern)
	}
	rest, err := expandHosts(tail)
	if err != nil {
		return nil, err
	}
	if len(items)*len(rest) > maxRange {
		return nil, fmt.Errorf("host %q: more than %d hosts in one pattern", pattern, maxRange)
	}
	var out []string
	for _, it := range items {
		for _, r := range rest {
			out = append(out, head+it+r)
		}
	}
	return out, nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// parseINI reads a hosts file in the form of Ansible's ini inventory
// plugin: host lines ("ctl1 ansible_host=10.0.0.1"), [group],
// [group:children] and [group:vars] sections, ranges, ";" and "#"
// comments. Values are read as Ansible's ini plugin reads them (Python
// literals: numbers, True/False/None, quoted strings, lists and
// mappings; anything else is a string). name is the file as problems and
// sources name it.
func parseINI(name string, data []byte) (*hostsFile, Problems) {
	h := newHostsFile()
	var problems Problems
	section, kind := "ungrouped", "hosts"
	for i, raw := range strings.Split(string(data), "\n") {
		where := fmt.Sprintf("%s:%d", name, i+1)
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 || strings.TrimSpace(stripComment(line[end+1:])) != "" {
				problems = append(problems, Problem{File: where, Message: fmt.Sprintf("%q: a section is [group], [group:children] or [group:vars]", line)})
				section, kind = "", ""
				continue
			}
			g, suffix, _ := strings.Cut(line[1:end], ":")
			if g == "" || strings.ContainsAny(g, " \t") {
				problems = append(problems, Problem{File: where, Message: fmt.Sprintf("%q: not a group name", line[1:end])})
				section, kind = "", ""
				continue
			}
			switch suffix {
			case "":
				kind = "hosts"
			case "children", "vars":
				kind = suffix
			default:
				problems = append(problems, Problem{File: where, Message: fmt.Sprintf("[%s]: unknown section kind %q (want children or vars)", line[1:end], suffix)})
				section, kind = "", ""
				continue
			}
			section = g
			h.group(g)
			continue
		}
		switch kind {
		case "":
			// the lines of a section already refused
		case "hosts":
			problems = append(problems, h.iniHost(where, section, line)...)
		case "children":
			child := strings.TrimSpace(stripComment(line))
			if strings.ContainsAny(child, " \t=") {
				problems = append(problems, Problem{File: where, Message: fmt.Sprintf("[%s:children]: %q is not a group name", section, child)})
				continue
			}
			if child == "all" || child == section {
				problems = append(problems, Problem{File: where, Message: fmt.Sprintf("[%s:children]: %s cannot be a child of %s", section, child, section)})
				continue
			}
			h.group(child)
			h.addChild(section, child)
		case "vars":
			k, v, ok := strings.Cut(line, "=")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, " \t") {
				problems = append(problems, Problem{File: where, Message: fmt.Sprintf("[%s:vars]: %q: want key=value", section, line)})
				continue
			}
			h.groups[section].vars.set(k, iniValue(strings.TrimSpace(v)), where)
		}
	}
	problems = append(problems, h.finish(name)...)
	return h, problems
}

// stripComment removes a "#" comment from a line.
func stripComment(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// iniHost reads one host line of a group's section.
func (h *hostsFile) iniHost(where, section, line string) Problems {
	tokens, err := shellSplit(line)
	if err != nil {
		return Problems{{File: where, Message: err.Error()}}
	}
	if len(tokens) == 0 {
		return nil
	}
	pattern, port := tokens[0], ""
	if i := strings.LastIndexByte(pattern, ':'); i > 0 && strings.Count(pattern, ":") == 1 && isDigits(pattern[i+1:]) {
		pattern, port = pattern[:i], pattern[i+1:]
	}
	if strings.Contains(pattern, "=") {
		return Problems{{File: where, Message: fmt.Sprintf("%q: a host line starts with the host's name", line)}}
	}
	hosts, err := expandHosts(pattern)
	if err != nil {
		return Problems{{File: where, Message: err.Error()}}
	}
	var problems Problems
	vars := newLayer()
	if port != "" {
		n, _ := strconv.Atoi(port)
		vars.set("ansible_port", float64(n), where)
	}
	for _, t := range tokens[1:] {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			problems = append(problems, Problem{File: where, Message: fmt.Sprintf("host %s: %q: want key=value", pattern, t)})
			continue
		}
		vars.set(k, iniValue(v), where)
	}
	for _, host := range hosts {
		h.addHost(section, host)
		hv := h.hostVars[host]
		for k, v := range vars.vars {
			hv.set(k, v, vars.sources[k])
		}
	}
	return problems
}

// shellSplit splits a host line as Python's shlex (with comments): white
// space separates words, quotes group them, "#" starts a comment.
func shellSplit(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == '#':
			if in {
				out = append(out, cur.String())
			}
			return out, nil
		case unicode.IsSpace(r):
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q: a quote is not closed", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// iniValue reads a value as Ansible's ini plugin does (ast.literal_eval,
// else the text): whole and decimal numbers, True, False, None, a quoted
// string, a list or a mapping; anything else is the string itself.
func iniValue(s string) any {
	switch s {
	case "True":
		return true
	case "False":
		return false
	case "None":
		return nil
	}
	// Python reads 0x10 and 0o17, and refuses 010 (a string then).
	octalLooking := len(s) > 1 && s[0] == '0' && isDigits(s[1:])
	if n, err := strconv.ParseInt(s, 0, 64); err == nil && !strings.HasPrefix(s, "+") && !octalLooking {
		return float64(n)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && strings.Trim(s, "0123456789.-eE") == "" && strings.Contains(s, ".") {
		return f
	}
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	if len(s) >= 2 && (s[0] == '[' || s[0] == '{') {
		var v any
		if err := yaml.Unmarshal([]byte(pythonLiterals.Replace(s)), &v); err == nil {
			return v
		}
	}
	return s
}

// pythonLiterals are Python's constants as YAML spells them, for the lists
// and mappings literal_eval reads.
var pythonLiterals = strings.NewReplacer("True", "true", "False", "false", "None", "null")

// parseYAML reads a hosts file in the form of Ansible's yaml inventory
// plugin: a mapping of groups, each with hosts (a mapping of host
// patterns to their variables), children (a mapping of groups of the same
// form) and vars. decode turns a node of variables into Go values,
// decrypting !vault values.
func parseYAML(name string, data []byte, decode func(where string, n *yamlv3.Node) (map[string]any, Problems)) (*hostsFile, Problems) {
	// lineOf is where a variable of a mapping node is set.
	lineOf := func(n *yamlv3.Node, key string) string {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return fmt.Sprintf("%s:%d", name, n.Content[i].Line)
			}
		}
		return fmt.Sprintf("%s:%d", name, n.Line)
	}
	h := newHostsFile()
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		return nil, Problems{{File: name, Message: "not valid YAML: " + err.Error()}}
	}
	if len(doc.Content) == 0 {
		return h, h.finish(name)
	}
	root := doc.Content[0]
	if root.Kind != yamlv3.MappingNode {
		return nil, Problems{{File: fmt.Sprintf("%s:%d", name, root.Line), Message: "want a mapping of groups (all: {hosts: …, children: …, vars: …})"}}
	}
	var problems Problems
	var readGroup func(gname string, n *yamlv3.Node, path string)
	readGroup = func(gname string, n *yamlv3.Node, path string) {
		h.group(gname)
		if n.Kind == yamlv3.ScalarNode && n.Tag == "!!null" {
			return
		}
		if n.Kind != yamlv3.MappingNode {
			problems = append(problems, Problem{File: fmt.Sprintf("%s:%d", name, n.Line), Key: path, Message: "a group is a mapping of hosts, children and vars"})
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			where := fmt.Sprintf("%s:%d", name, k.Line)
			isNull := v.Kind == yamlv3.ScalarNode && v.Tag == "!!null"
			switch k.Value {
			case "hosts":
				if isNull {
					continue
				}
				if v.Kind != yamlv3.MappingNode {
					problems = append(problems, Problem{File: where, Key: path + ".hosts", Message: "want a mapping of hosts to their variables (or nothing)"})
					continue
				}
				for j := 0; j+1 < len(v.Content); j += 2 {
					hk, hv := v.Content[j], v.Content[j+1]
					hwhere := fmt.Sprintf("%s:%d", name, hk.Line)
					hosts, err := expandHosts(hk.Value)
					if err != nil {
						problems = append(problems, Problem{File: hwhere, Key: path + ".hosts", Message: err.Error()})
						continue
					}
					vars, ps := map[string]any{}, Problems(nil)
					if !(hv.Kind == yamlv3.ScalarNode && hv.Tag == "!!null") {
						vars, ps = decode(hwhere, hv)
						problems = append(problems, ps...)
					}
					for _, host := range hosts {
						h.addHost(gname, host)
						l := h.hostVars[host]
						for vk, x := range vars {
							l.set(vk, x, lineOf(hv, vk))
						}
					}
				}
			case "children":
				if isNull {
					continue
				}
				if v.Kind != yamlv3.MappingNode {
					problems = append(problems, Problem{File: where, Key: path + ".children", Message: "want a mapping of groups"})
					continue
				}
				for j := 0; j+1 < len(v.Content); j += 2 {
					child := v.Content[j].Value
					if child == "all" || child == gname {
						problems = append(problems, Problem{File: fmt.Sprintf("%s:%d", name, v.Content[j].Line), Key: path + ".children", Message: fmt.Sprintf("%s cannot be a child of %s", child, gname)})
						continue
					}
					readGroup(child, v.Content[j+1], path+".children."+child)
					h.addChild(gname, child)
				}
			case "vars":
				if isNull {
					continue
				}
				vars, ps := decode(where, v)
				problems = append(problems, ps...)
				for vk, x := range vars {
					h.groups[gname].vars.set(vk, x, lineOf(v, vk))
				}
			default:
				problems = append(problems, Problem{File: where, Key: path + "." + k.Value, Message: "a group holds hosts, children and vars only"})
			}
		}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		readGroup(root.Content[i].Value, root.Content[i+1], root.Content[i].Value)
	}
	problems = append(problems, h.finish(name)...)
	return h, problems
}
