//go:build tools

// Package tools names the upstream commands built for the simulated cluster: kwok fakes nodes and pods,
// kwokctl runs the control plane from local binaries.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
	_ "sigs.k8s.io/kwok/cmd/kwokctl"
)
