// The oracle for tests/inputs/test_patterns_go.py: moby/patternmatcher itself, reading
// one JSON case per line ({"patterns": [...], "paths": [...]}) and writing, per case, the
// error of New (if any), the first error met compiling or matching, each path's result
// as fsutil's walker computes it (MatchesUsingParentResults down the path's folders), and
// each single pattern's own match on each path (null for a pattern that New would not
// give back from its text: one still starting with '!', or not trimmed and clean).
package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
)

type input struct {
	Patterns []string `json:"patterns"`
	Paths    []string `json:"paths"`
}

type output struct {
	NewError     string    `json:"new_error"`
	CompileError string    `json:"compile_error"`
	Walked       []bool    `json:"walked"`
	Single       [][]*bool `json:"single"`
}

func main() {
	scanner := bufio.NewScanner(os.Stdin)
	scanner.Buffer(make([]byte, 1<<20), 1<<26)
	encoder := json.NewEncoder(os.Stdout)
	for scanner.Scan() {
		var in input
		if err := json.Unmarshal(scanner.Bytes(), &in); err != nil {
			panic(err)
		}
		encoder.Encode(run(in))
	}
}

func run(in input) output {
	var out output
	pm, err := patternmatcher.New(in.Patterns)
	if err != nil {
		out.NewError = err.Error()
		return out
	}
	var singles []*patternmatcher.PatternMatcher
	for _, p := range pm.Patterns() {
		text := p.String()
		if strings.HasPrefix(text, "!") || strings.TrimSpace(text) != text || filepath.Clean(text) != text {
			singles = append(singles, nil)
			continue
		}
		single, err := patternmatcher.New([]string{text})
		if err == nil {
			_, err = single.MatchesUsingParentResult("x", false) // compiles the regexp
		}
		if err != nil {
			out.CompileError = err.Error()
			return out
		}
		singles = append(singles, single)
	}
	for _, path := range in.Paths {
		parts := strings.Split(path, "/")
		var info patternmatcher.MatchInfo
		var matched bool
		for i := range parts {
			matched, info, err = pm.MatchesUsingParentResults(strings.Join(parts[:i+1], "/"), info)
			if err != nil {
				out.CompileError = err.Error()
				return out
			}
		}
		out.Walked = append(out.Walked, matched)
		row := []*bool{}
		for _, single := range singles {
			if single == nil {
				row = append(row, nil)
				continue
			}
			hit, _ := single.MatchesUsingParentResult(path, false)
			row = append(row, &hit)
		}
		out.Single = append(out.Single, row)
	}
	return out
}
