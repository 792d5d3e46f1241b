//go:build tools

// Package tools names the upstream command built for the simulated cluster: helm, which kubernetes.core.helm runs.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
