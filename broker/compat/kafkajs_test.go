package compat

import (
	"os/exec"
	"testing"
)

// TestKafkaJS runs the matrix with kafkajs, which speaks no flexible versions (seen: Produce v7, Fetch
// v11, JoinGroup v5, OffsetCommit v5, OffsetFetch v4, ApiVersions v2); it is installed into
// broker/compat/node_modules from package.json (npm ci). It consumes only in groups, so its consume
// cell reads from the beginning as a fresh group.
func TestKafkaJS(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: apt-get install nodejs, then cd broker/compat && npm ci (what .ci/run does)")
	}
	resolve := exec.Command(node, "-e", "require.resolve('kafkajs')")
	resolve.Dir = "testdata"
	if err := resolve.Run(); err != nil {
		t.Skip("kafkajs not found from broker/compat/testdata: cd broker/compat && npm ci (what .ci/run does)")
	}
	runMatrix(t, scriptClient{name: "kafkajs", argv: []string{node, "kafkajs_client.js"}, idemp: true})
}
