package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// friendly rewrites the decoding errors of encoding/json, time and YAML in
// a user's words: the field path and what it wants, without Go types or
// Go time layouts. The rest of err's text (which object) is kept.
func friendly(err error) string {
	msg := err.Error()
	var ute *json.UnmarshalTypeError
	var te *time.ParseError
	switch {
	case errors.As(err, &ute):
		prefix := strings.TrimSuffix(msg, ute.Error())
		want := typeWords(ute.Type)
		if strings.HasSuffix(ute.Field, ".maxUnavailable") || strings.HasSuffix(ute.Field, ".maxSurge") {
			want = "an integer or a percentage such as 25%" // an IntOrString
		}
		what := fmt.Sprintf("want %s, got %s", want, valueWords(ute.Value))
		if ute.Field != "" {
			what = ute.Field + ": " + what
		}
		return prefix + what
	case errors.As(err, &te):
		prefix := strings.TrimSuffix(msg, te.Error())
		return prefix + fmt.Sprintf("invalid time %q: want RFC 3339, such as 2026-01-02T15:04:05Z", te.Value)
	}
	msg = strings.Replace(msg, "error converting YAML to JSON: yaml: ", "invalid YAML: ", 1)
	msg = strings.Replace(msg, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
		"invalid quantity: want a number with an optional unit, such as 100m, 2 or 1.5Gi", 1)
	return msg
}

// typeWords names what a Go type holds in JSON terms.
func typeWords(t reflect.Type) string {
	if t == nil {
		return "another value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a base64 string"
		}
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another value"
}

// valueWords names a JSON value kind as encoding/json reports it
// ("array", "number 1.5", ...).
func valueWords(v string) string {
	kind, rest, _ := strings.Cut(v, " ")
	words := map[string]string{"array": "a list", "object": "an object", "string": "a string", "number": "a number", "bool": "true or false"}[kind]
	if words == "" {
		return v
	}
	if rest != "" {
		words += " " + rest
	}
	return words
}
