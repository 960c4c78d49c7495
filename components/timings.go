package components

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// TimingsError lists every problem found in a timings file, each with its
// line.
type TimingsError struct {
	File     string
	Problems []string
}

func (e *TimingsError) Error() string {
	return fmt.Sprintf("%s: %s", e.File, strings.Join(e.Problems, fmt.Sprintf("\n%s: ", e.File)))
}

// ReadTimings reads a CSV of "unit,seconds" lines: unit is a component name
// or, with phases, "component:phase". Blank lines, '#' comments and a
// "component,seconds" header are skipped. Every unit must be known to r; a
// unit given twice, a malformed line or a negative duration is an error.
// file names the input in errors.
func (r *Registry) ReadTimings(in io.Reader, file string, phases bool) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	firstLine := map[string]int{}
	e := &TimingsError{File: file}
	sc := bufio.NewScanner(in)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		unit, secs, ok := strings.Cut(text, ",")
		unit, secs = strings.TrimSpace(unit), strings.TrimSpace(secs)
		if !ok || strings.Contains(secs, ",") {
			e.Problems = append(e.Problems, fmt.Sprintf("line %d: want \"unit,seconds\", got %q", line, text))
			continue
		}
		if len(out) == 0 && len(e.Problems) == 0 && strings.EqualFold(secs, "seconds") {
			continue // header
		}
		v, err := strconv.ParseFloat(secs, 64)
		if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || v > 1e9 {
			e.Problems = append(e.Problems, fmt.Sprintf("line %d: %s: seconds %q is not a non-negative number", line, unit, secs))
			continue
		}
		if err := r.checkUnit(unit, phases); err != nil {
			e.Problems = append(e.Problems, fmt.Sprintf("line %d: %v", line, err))
			continue
		}
		if prev, dup := firstLine[unit]; dup {
			e.Problems = append(e.Problems, fmt.Sprintf("line %d: %s given again (first on line %d)", line, unit, prev))
			continue
		}
		firstLine[unit] = line
		out[unit] = time.Duration(v * float64(time.Second))
	}
	if err := sc.Err(); err != nil {
		e.Problems = append(e.Problems, fmt.Sprintf("line %d: %v", line+1, err))
	}
	if len(e.Problems) > 0 {
		return nil, e
	}
	return out, nil
}

func (r *Registry) checkUnit(unit string, phases bool) error {
	name, phase, hasPhase := strings.Cut(unit, ":")
	if hasPhase != phases {
		if phases {
			return fmt.Errorf("%q: want component:phase", unit)
		}
		return fmt.Errorf("%q: want a component name (phases go in a --phases file)", unit)
	}
	c, ok := r.byName[name]
	if !ok {
		return r.unknown(name)
	}
	if hasPhase {
		if _, ok := c.Phase(phase); !ok {
			var names []string
			for _, p := range c.Phases {
				names = append(names, p.Name)
			}
			return fmt.Errorf("%s has no phase %q (it has %s)", name, phase, strings.Join(names, ", "))
		}
	}
	return nil
}
