package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// popular is how many keys nearly every file shares (a common base image,
// a certificates stage).
const popular = 8

// writeLockTree writes files Dockerfiles under dir referencing every key in
// imgs by tag: multi-stage, some through a global ARG default, some with
// COPY --from=<image>, a few keys shared by many files. It returns the
// number of references written.
func writeLockTree(dir string, files int, imgs []image) (int, error) {
	own := make([][]image, files)
	for j, m := range imgs {
		own[j%files] = append(own[j%files], m)
	}
	total := 0
	for i := range files {
		shared := imgs[(i*7+3)%len(imgs)]
		pop := imgs[i%min(popular, len(imgs))]
		var b strings.Builder
		refs := 0
		from := func(s string) { refs++; fmt.Fprintf(&b, "FROM %s", s) }
		var first image
		if len(own[i]) > 0 {
			first = own[i][0]
		} else {
			first = shared
		}
		if i%3 == 0 {
			fmt.Fprintf(&b, "# The base is overridable: --build-arg BASE=...\nARG BASE=%s\n", first.key())
			refs++
			b.WriteString("FROM ${BASE} AS build\n")
		} else {
			from(first.key() + " AS build\n")
		}
		b.WriteString("WORKDIR /src\nCOPY . .\nRUN make build\n\n")
		from(shared.key() + " AS test\n")
		b.WriteString("COPY --from=build /src/out /out\nRUN make test\n\n")
		for k, m := range own[i][min(1, len(own[i])):] {
			from(fmt.Sprintf("%s AS extra%d\n", m.key(), k))
			b.WriteString("RUN true\n\n")
		}
		from(pop.key() + "\n")
		if i%2 == 0 {
			refs++
			fmt.Fprintf(&b, "COPY --from=%s /etc/ssl/certs /etc/ssl/certs\n", imgs[(i+1)%min(popular, len(imgs))].key())
		}
		b.WriteString("COPY --from=build /src/out /app\nENTRYPOINT [\"/app\"]\n")

		name := "Dockerfile"
		if i%7 == 6 {
			name = "ci.Dockerfile"
		}
		p := filepath.Join(dir, "services", fmt.Sprintf("team%02d", i%12), fmt.Sprintf("svc%04d", i), name)
		if err := writeFile(p, b.String()); err != nil {
			return 0, err
		}
		total += refs
	}
	return total, nil
}

// writeScanTree writes files sources under dir, four in five Dockerfiles
// and the rest Kubernetes Deployments, every reference pinned
// (repo:tag@digest) so that 'lock --offline' can record them. It returns
// the number of references written.
func writeScanTree(dir string, files int, imgs []image) (int, error) {
	total := 0
	for i := range files {
		a, b := imgs[i%len(imgs)], imgs[(i*13+5)%len(imgs)]
		var p, text string
		if i%5 == 4 {
			p = filepath.Join(dir, "deploy", fmt.Sprintf("ns%03d", i/100), fmt.Sprintf("svc%05d.yaml", i))
			text = fmt.Sprintf(deployment, i, i, i, b.pinned(), a.pinned())
		} else {
			p = filepath.Join(dir, "apps", fmt.Sprintf("group%03d", i/100), fmt.Sprintf("svc%05d", i), "Dockerfile")
			text = fmt.Sprintf("FROM %s AS build\nRUN make\n\nFROM %s\nCOPY --from=build /out /app\n", a.pinned(), b.pinned())
		}
		if err := writeFile(p, text); err != nil {
			return 0, err
		}
		total += 2
	}
	return total, nil
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc%05d
  labels:
    app: svc%05d
spec:
  replicas: 2
  selector:
    matchLabels:
      app: svc%05d
  template:
    spec:
      initContainers:
        - name: migrate
          image: %s
      containers:
        - name: app
          image: "%s"
          ports:
            - containerPort: 8080
`

func writeFile(p, text string) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(text), 0o644)
}
