#!/bin/sh
docker run --rm busybox:1.36 true
