package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/nodeconfig"
)

func init() {
	register(&command{
		name:    "node-config",
		usage:   "node-config --runtime containerd|docker|crio|k3s|rke2 --root DIR [--dry-run] [--containerd-config-path DIR] [REGISTRY...]",
		summary: "write a node's registry mirrors, CAs and insecure registries in its runtime's format",
		run:     runNodeConfig,
	})
}

// runNodeConfig generates the node configuration of one runtime from the registries file
// and writes it under --root (give --root / on the node itself), or with --dry-run prints
// the unified diff against what is on disk. Warnings go to stderr; credentials never print.
func runNodeConfig(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "node-config")
	runtime := fs.String("runtime", "", "containerd, docker, crio (also podman, skopeo), k3s or rke2")
	root := fs.String("root", "", "the node's root directory: / on the node, or an image or test tree")
	dry := fs.Bool("dry-run", false, "print the diff against the files on disk; write nothing")
	certs := fs.String("containerd-config-path", "", "containerd's registry config_path (default /etc/containerd/certs.d)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *runtime == "" {
		return usagef("--runtime is required")
	}
	rt, err := nodeconfig.ParseRuntime(*runtime)
	if err != nil {
		return usagef("%v", err)
	}
	if *root == "" {
		return usagef("--root is required (give --root / to configure this machine)")
	}
	regs, err := e.selectRegistries(fs.Args())
	if err != nil {
		return err
	}
	opts := []nodeconfig.Option{nodeconfig.WithRoot(*root)}
	if *certs != "" {
		opts = append(opts, nodeconfig.WithContainerdConfigPath(*certs))
	}
	plan, err := nodeconfig.Generate(regs, rt, opts...)
	if err != nil {
		return err
	}
	for _, w := range plan.Warnings {
		fmt.Fprintf(e.stderr, "regcred: warning: %s\n", w)
	}
	if *dry {
		var buf bytes.Buffer
		n, err := nodeconfig.Diff(&buf, plan, *root)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(&buf)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() { // the node's files are not ours: escape what a terminal would act on
			fmt.Fprintln(e.stdout, untrusted.Limit(sc.Text(), 4096))
		}
		if n == 0 {
			fmt.Fprintf(e.stderr, "regcred: %s configuration under %s is up to date\n", rt, *root)
		} else {
			fmt.Fprintf(e.stderr, "regcred: %d file(s) would change (dry run: nothing written)\n", n)
		}
		return nil
	}
	written, err := nodeconfig.Apply(plan, *root)
	for _, p := range written {
		fmt.Fprintf(e.stdout, "wrote %s\n", p)
	}
	if err != nil {
		return err
	}
	if len(written) == 0 {
		fmt.Fprintf(e.stdout, "%s configuration under %s is up to date\n", rt, *root)
		return nil
	}
	for _, n := range plan.Notes {
		fmt.Fprintf(e.stdout, "next: %s\n", strings.TrimSpace(n))
	}
	return nil
}
