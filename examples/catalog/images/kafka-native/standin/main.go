// Command kafka-native-standin is the native broker binary of the kafka-native image on
// machines without GraalVM: franz-go's kfake, a Kafka-protocol broker written in Go,
// with its state persisted under log.dirs. It answers the same verbs the image's
// launch script gives Apache's GraalVM binary:
//
//	kafka.Kafka format --cluster-id <id> --config <server.properties>
//	kafka.Kafka start --config <server.properties>
//
// It is a stand-in, not Apache Kafka: one broker, no KRaft quorum, no TLS listener
// (docs/kafka.md lists every difference).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: kafka.Kafka format --cluster-id <id> --config <file> | start --config <file>")
	}
	switch os.Args[1] {
	case "format":
		flags := flag.NewFlagSet("format", flag.ExitOnError)
		clusterID := flags.String("cluster-id", "", "cluster id to write into meta.properties")
		config := flags.String("config", "", "server.properties")
		_ = flags.Parse(os.Args[2:])
		if *clusterID == "" || *config == "" {
			fail("format needs --cluster-id and --config")
		}
		if err := format(*clusterID, *config); err != nil {
			fail(err.Error())
		}
	case "start":
		flags := flag.NewFlagSet("start", flag.ExitOnError)
		config := flags.String("config", "", "server.properties")
		_ = flags.Parse(os.Args[2:])
		if *config == "" {
			fail("start needs --config")
		}
		if err := start(*config); err != nil {
			fail(err.Error())
		}
	default:
		fail(fmt.Sprintf("unknown command %q", os.Args[1]))
	}
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "kafka-native-standin:", message)
	os.Exit(1)
}

// properties reads a Java properties file in the simple key=value form the image writes.
func properties(path string) (map[string]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	values := map[string]string{}
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "!") {
			continue
		}
		key, value, _ := strings.Cut(line, "=")
		values[strings.TrimSpace(key)] = strings.TrimSpace(value)
	}
	return values, scanner.Err()
}

func logDir(props map[string]string) string {
	dirs := props["log.dirs"]
	if dirs == "" {
		dirs = props["log.dir"]
	}
	if dirs == "" {
		dirs = "/tmp/kafka-logs"
	}
	first, _, _ := strings.Cut(dirs, ",")
	return first
}

// format writes meta.properties like kafka-storage.sh does, so that the launch script's
// "formatted already?" check and a restart behave as with the JVM broker.
func format(clusterID, config string) error {
	props, err := properties(config)
	if err != nil {
		return err
	}
	dir := logDir(props)
	meta := filepath.Join(dir, "meta.properties")
	if _, err := os.Stat(meta); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	text := fmt.Sprintf("version=1\ncluster.id=%s\nnode.id=%s\n", clusterID, props["node.id"])
	return os.WriteFile(meta, []byte(text), 0o644)
}

// advertisedListener serves on one address and tells clients another (advertised.listeners).
type advertisedListener struct {
	net.Listener
	advertised net.Addr
}

func (l advertisedListener) Addr() net.Addr { return l.advertised }

type hostPort string

func (h hostPort) Network() string { return "tcp" }
func (h hostPort) String() string  { return string(h) }

// listener picks the plaintext client listener to serve: the one whose advertised host
// is not localhost when there are several (the one published to other machines).
func listener(props map[string]string) (bind string, advertised string, err error) {
	controllers := map[string]bool{}
	for _, name := range strings.Split(props["controller.listener.names"], ",") {
		controllers[strings.TrimSpace(name)] = true
	}
	protocols := map[string]string{}
	for _, pair := range strings.Split(props["listener.security.protocol.map"], ",") {
		name, protocol, _ := strings.Cut(strings.TrimSpace(pair), ":")
		protocols[name] = protocol
	}
	endpoints := func(list string) map[string]string {
		found := map[string]string{}
		for _, entry := range strings.Split(list, ",") {
			name, address, ok := strings.Cut(strings.TrimSpace(entry), "://")
			if ok {
				found[name] = address
			}
		}
		return found
	}
	binds, adverts := endpoints(props["listeners"]), endpoints(props["advertised.listeners"])
	var names []string
	for _, entry := range strings.Split(props["listeners"], ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(entry), "://")
		protocol := protocols[name]
		if protocol == "" {
			protocol = name
		}
		if !controllers[name] && protocol == "PLAINTEXT" {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", "", errors.New("no PLAINTEXT client listener in listeners=" + props["listeners"])
	}
	chosen := names[0]
	for _, name := range names {
		if host, _, _ := net.SplitHostPort(adverts[name]); host != "" && host != "localhost" {
			chosen = name
			break
		}
	}
	bind = binds[chosen]
	advertised = adverts[chosen]
	if advertised == "" {
		advertised = bind
	}
	if host, port, _ := net.SplitHostPort(advertised); host == "" {
		advertised = net.JoinHostPort("localhost", port)
	}
	return bind, advertised, nil
}

func start(config string) error {
	props, err := properties(config)
	if err != nil {
		return err
	}
	dir := logDir(props)
	meta, err := properties(filepath.Join(dir, "meta.properties"))
	if err != nil {
		return fmt.Errorf("storage %s is not formatted: %w", dir, err)
	}
	bind, advertised, err := listener(props)
	if err != nil {
		return err
	}
	partitions := 1
	if n, err := strconv.Atoi(props["num.partitions"]); err == nil && n > 0 {
		partitions = n
	}
	// Every property is reported through DescribeConfigs, as a broker reports its own.
	configs := map[string]string{}
	for key, value := range props {
		if value != "" && !strings.Contains(key, "password") {
			configs[key] = value
		}
	}
	options := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ClusterID(meta["cluster.id"]),
		kfake.DataDir(filepath.Join(dir, "kfake")),
		kfake.DefaultNumPartitions(partitions),
		kfake.BrokerConfigs(configs),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			inner, err := net.Listen(network, bind)
			if err != nil {
				return nil, err
			}
			return advertisedListener{Listener: inner, advertised: hostPort(advertised)}, nil
		}),
	}
	if props["auto.create.topics.enable"] != "false" {
		options = append(options, kfake.AllowAutoTopicCreation())
	}
	cluster, err := kfake.NewCluster(options...)
	if err != nil {
		return err
	}
	fmt.Printf("kafka-native-standin: broker %s of cluster %s serving on %s, advertised as %s, data in %s\n", props["node.id"], meta["cluster.id"], bind, advertised, dir)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	fmt.Println("kafka-native-standin: shutting down")
	cluster.Close()
	return nil
}
