package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestSchemaCommand: "regcred schema" prints, without any registries file, JSON with every
// kind (its type key) and every input (name, label, help, type, required).
func TestSchemaCommand(t *testing.T) {
	t.Setenv("REGCRED_CONFIG", "/nonexistent/registries.yaml")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"schema"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var out struct {
		Kinds []struct {
			Type   string `json:"type"`
			Fields []map[string]any
		} `json:"kinds"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout.String())
	}
	var types []string
	for _, k := range out.Kinds {
		types = append(types, k.Type)
		for _, f := range k.Fields {
			for _, key := range []string{"name", "label", "help", "type"} {
				if s, _ := f[key].(string); s == "" {
					t.Errorf("%s: field %v has no %s", k.Type, f["name"], key)
				}
			}
			if _, ok := f["required"].(bool); !ok {
				t.Errorf("%s: field %v has no required flag", k.Type, f["name"])
			}
		}
	}
	if got := strings.Join(types, ","); got != "Docker,GHCR,Quay,Harbor,Custom,Public,ECR,ACR,GCR,GAR,Kubernetes" {
		t.Fatalf("types %s", got)
	}

	stdout.Reset()
	if code := run(context.Background(), []string{"schema", "-type", "ECR"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"secretAccessKey"`) || strings.Contains(stdout.String(), `"serviceAccountKey"`) {
		t.Fatalf("-type ECR:\n%s", stdout.String())
	}
	if code := run(context.Background(), []string{"schema", "-type", "gitlab"}, &stdout, &stderr); code != exitUsage {
		t.Fatalf("-type gitlab: exit %d", code)
	}
}
