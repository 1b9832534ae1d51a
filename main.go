// Command seiche is a Kafka-compatible broker, streams runtime and SQL engine in one binary.
package main

import "github.com/seichedb/seiche/cli"

func main() { cli.Execute() }
