package main

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// keycloakModulePrefix names the modules of the roles' Keycloak tasks.
const keycloakModulePrefix = "community.general.keycloak_"

// keycloakTasks returns the text of the tasks of a role's task file that
// call a community.general.keycloak_* module, verbatim (each task's lines
// as the file has them, comments within included), in their order, as a
// task file of its own; names are their names. A file without such a task
// is an error: the role changed.
func keycloakTasks(path string) (text []byte, names []string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("%s: not a list of tasks", path)
	}
	lines := strings.SplitAfter(string(raw), "\n")
	tasks := doc.Content[0].Content
	var b strings.Builder
	for i, task := range tasks {
		module, name := "", ""
		for j := 0; j+1 < len(task.Content); j += 2 {
			key := task.Content[j].Value
			if strings.HasPrefix(key, keycloakModulePrefix) {
				module = key
			}
			if key == "name" {
				name = task.Content[j+1].Value
			}
		}
		if module == "" {
			continue
		}
		// From the task's first line (its "- " item) to the line before
		// the next task, or the end of the file.
		end := len(lines)
		if i+1 < len(tasks) {
			end = tasks[i+1].Line - 1
		}
		b.WriteString(strings.Join(lines[task.Line-1:end], ""))
		if !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("%s: no %s* task", path, keycloakModulePrefix)
	}
	return []byte(b.String()), names, nil
}
