package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/imagelock/imagelock/internal/testimage"
	"github.com/imagelock/imagelock/internal/testsign"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"imagelock": func() { os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr)) },
	})
}

// The scripts in testdata/script drive the CLI: exit codes, output and
// the files left behind. Each gets its own in-process registry at
// $REGISTRY, and these commands:
//
//	exits N PROG [ARG...]                   run PROG like exec and require exit code N
//	push [-env VAR] REPO:TAG [PLATFORM...]  push a random image (an index when platforms are given), digest in $VAR
//	republish [-env VAR] REPO:TAG           push the tag's index again with a new annotation: a new digest, the same images
//	derive [-env VAR] [-plain] REPO:TAG BASE:TAG
//	                                        push an index built on BASE's images (their layers, then one of its own),
//	                                        annotated with BASE's name and digest unless -plain
//	subst FILE...                           replace $REGISTRY and the $VARs of push -env in files
//	keygen NAME                             write a cosign key pair: NAME.pub, and NAME.key for sign
//	sign NAME REPO:TAG                      sign the tag's digest with NAME.key, as cosign sign --key --tlog-upload=false
//
// $SILENT is a host that takes connections and never answers.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
			env.Defer(srv.Close)
			env.Setenv("REGISTRY", strings.TrimPrefix(srv.URL, "http://"))
			silent, err := silentHost()
			if err != nil {
				return err
			}
			env.Defer(func() { silent.Close() })
			env.Setenv("SILENT", silent.Addr().String())
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":     exits,
			"push":      push,
			"republish": republish,
			"derive":    derive,
			"subst":     subst,
			"keygen":    keygen,
			"sign":      sign,
		},
	})
}

// silentHost listens on loopback and holds every connection open without
// a byte of answer, as a hung registry does, until it is closed.
func silentHost() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		var held []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	return ln, nil
}

func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROG [ARG...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("running %s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

func push(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! push")
	}
	envVar := ""
	if len(args) > 1 && args[0] == "-env" {
		envVar, args = args[1], args[2:]
	}
	if len(args) < 1 {
		ts.Fatalf("usage: push [-env VAR] REPO:TAG [PLATFORM...]")
	}
	ref, err := name.NewTag(ts.Getenv("REGISTRY") + "/" + args[0])
	ts.Check(err)
	var digest v1.Hash
	if len(args) == 1 {
		img, err := random.Image(256, 1)
		ts.Check(err)
		ts.Check(remote.Write(ref, img))
		digest, err = img.Digest()
		ts.Check(err)
	} else {
		idx, _, err := testimage.Index(types.OCIImageIndex, args[1:]...)
		ts.Check(err)
		ts.Check(remote.WriteIndex(ref, idx))
		digest, err = idx.Digest()
		ts.Check(err)
	}
	if envVar != "" {
		ts.Setenv(envVar, digest.String())
		ts.Setenv("PUSHED", ts.Getenv("PUSHED")+" "+envVar)
	}
	fmt.Fprintln(ts.Stdout(), digest)
}

func republish(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! republish")
	}
	envVar := ""
	if len(args) > 1 && args[0] == "-env" {
		envVar, args = args[1], args[2:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: republish [-env VAR] REPO:TAG")
	}
	ref, err := name.NewTag(ts.Getenv("REGISTRY") + "/" + args[0])
	ts.Check(err)
	idx, err := remote.Index(ref)
	ts.Check(err)
	idx = mutate.Annotations(idx, map[string]string{"republished": "true"}).(v1.ImageIndex)
	ts.Check(remote.WriteIndex(ref, idx))
	digest, err := idx.Digest()
	ts.Check(err)
	if envVar != "" {
		ts.Setenv(envVar, digest.String())
		ts.Setenv("PUSHED", ts.Getenv("PUSHED")+" "+envVar)
	}
	fmt.Fprintln(ts.Stdout(), digest)
}

func subst(ts *testscript.TestScript, neg bool, args []string) {
	vars := append([]string{"REGISTRY", "SILENT"}, strings.Fields(ts.Getenv("PUSHED"))...)
	for _, f := range args {
		data := ts.ReadFile(f)
		for _, v := range vars {
			data = strings.ReplaceAll(data, "$"+v, ts.Getenv(v))
		}
		ts.Check(os.WriteFile(ts.MkAbs(f), []byte(data), 0o644))
	}
}

func keygen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: keygen NAME")
	}
	k, err := testsign.NewKey()
	ts.Check(err)
	der, err := x509.MarshalECPrivateKey(k.Private)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]+".pub"), k.PEM, 0o644))
	ts.Check(os.WriteFile(ts.MkAbs(args[0]+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600))
}

func sign(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sign NAME REPO:TAG")
	}
	block, _ := pem.Decode([]byte(ts.ReadFile(args[0] + ".key")))
	if block == nil {
		ts.Fatalf("%s.key: no PEM block", args[0])
	}
	priv, err := x509.ParseECPrivateKey(block.Bytes)
	ts.Check(err)
	ref, err := name.NewTag(ts.Getenv("REGISTRY") + "/" + args[1])
	ts.Check(err)
	desc, err := remote.Head(ref)
	ts.Check(err)
	ts.Check(testsign.Sign(ref.Context().Digest(desc.Digest.String()), &testsign.Key{Private: priv}))
}

func derive(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! derive")
	}
	envVar, plain := "", false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch {
		case args[0] == "-plain":
			plain, args = true, args[1:]
		case args[0] == "-env" && len(args) > 1:
			envVar, args = args[1], args[2:]
		default:
			ts.Fatalf("derive: unknown flag %s", args[0])
		}
	}
	if len(args) != 2 {
		ts.Fatalf("usage: derive [-env VAR] [-plain] REPO:TAG BASE:TAG")
	}
	reg := ts.Getenv("REGISTRY")
	baseRef, err := name.NewTag(reg + "/" + args[1])
	ts.Check(err)
	base, err := remote.Index(baseRef)
	ts.Check(err)
	var annotations map[string]string
	if !plain {
		d, err := base.Digest()
		ts.Check(err)
		annotations = map[string]string{testimage.BaseName: baseRef.String(), testimage.BaseDigest: d.String()}
	}
	idx, err := testimage.Derived(base, 1, annotations)
	ts.Check(err)
	ref, err := name.NewTag(reg + "/" + args[0])
	ts.Check(err)
	ts.Check(remote.WriteIndex(ref, idx))
	digest, err := idx.Digest()
	ts.Check(err)
	if envVar != "" {
		ts.Setenv(envVar, digest.String())
		ts.Setenv("PUSHED", ts.Getenv("PUSHED")+" "+envVar)
	}
	fmt.Fprintln(ts.Stdout(), digest)
}
