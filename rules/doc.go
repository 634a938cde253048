// Package rules holds sync rules, their YAML files and their evaluation.
package rules
