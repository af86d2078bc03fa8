#!/usr/bin/env bash
# Assembles a Kafka release tarball (kafka_2.13-<version>.tgz, the official layout:
# bin, config, libs, licenses, LICENSE, NOTICE) from the jars Maven Central
# publishes, with Apache-style .sha512 checksums, because neither apache.org nor
# any image registry is reachable. Cached by version and by this script's content.
#
#   stack/kafka-fixture.sh 3.9.1 4.1.0   prints one tarball path per version
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=stack/lib.sh
source "$here/lib.sh"
stack_lock kafka-fixture

scala=2.13
fixtures="$IMAGEWRIGHT_CACHE/fixtures/kafka"
# Fixed timestamps make the tarball, and so its checksum, the same on every machine.
epoch=${SOURCE_DATE_EPOCH:-1735689600}
# The logging backends the official tarballs ship (3.x: reload4j; 4.x: log4j 2).
reload4j_binding="org.slf4j:slf4j-reload4j:1.7.36"
log4j2_binding="org.apache.logging.log4j:log4j-slf4j-impl:2.24.3"

scratch_dirs=()
trap 'rm -rf "${scratch_dirs[@]}"' EXIT

main() {
  if [ $# -eq 0 ]; then say "usage: stack/kafka-fixture.sh VERSION..."; exit 2; fi
  local version
  for version in "$@"; do
    if ! [[ $version =~ ^[34]\.[0-9]+\.[0-9]+$ ]]; then
      say "kafka fixture: unsupported version '$version' (expected 3.x.y or 4.x.y)"
      exit 2
    fi
    assemble "$version"
  done
}

assemble() {
  local version=$1
  local name="kafka_$scala-$version"
  local out="$fixtures/$version"
  local key
  key=$(cat "${BASH_SOURCE[0]}" - <<<"$version $epoch" | sha256sum | cut -c1-16)
  if [ -f "$out/$name.tgz" ] && [ "$(cat "$out/.key" 2>/dev/null)" = "$key" ]; then
    printf '%s\n' "$out/$name.tgz"
    return 0
  fi
  command -v mvn >/dev/null || { say "mvn is missing (stack/up.sh installs maven)"; exit 1; }
  say "assembling $name.tgz from Maven Central"
  local started=$SECONDS
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/kafka-fixture.XXXXXX")
  scratch_dirs+=("$work")
  local root="$work/$name"
  mkdir -p "$root/bin" "$root/config" "$root/libs" "$root/licenses"

  resolve_libs "$version" "$work" "$root/libs"
  write_bin "$version" "$root"
  write_config "$version" "$root"
  write_legal "$version" "$root"
  check_classes "$root"

  find "$root" -exec touch -h -d "@$epoch" {} +
  mkdir -p "$out"
  (cd "$work" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    --format=gnu -cf - "$name" | gzip -n -9 >"$out/$name.tgz.partial")
  mv -f "$out/$name.tgz.partial" "$out/$name.tgz"
  write_checksums "$out" "$name.tgz"
  printf '%s\n' "$key" >"$out/.key"
  say "assembled $name.tgz ($(du -h "$out/$name.tgz" | cut -f1)) in $((SECONDS - started))s"
  printf '%s\n' "$out/$name.tgz"
}

# resolve_libs VERSION WORK LIBS: the broker, its storage and command-line tools, their
# runtime dependencies and a logging backend, copied from Maven Central into LIBS.
resolve_libs() {
  local version=$1 work=$2 libs=$3
  local binding=$reload4j_binding
  if [ "${version%%.*}" -ge 4 ]; then binding=$log4j2_binding; fi
  local g a v
  IFS=: read -r g a v <<<"$binding"
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>imagewright.fixture</groupId>
  <artifactId>kafka-release</artifactId>
  <version>$version</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$scala</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-storage</artifactId><version>$version</version></dependency>
    <dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>
  </dependencies>
</project>
POM
  if ! mvn -B -q -f "$work/pom.xml" -Dmaven.repo.local="$IMAGEWRIGHT_CACHE/maven" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >"$work/mvn.log" 2>&1; then
    say "resolving Kafka $version from Maven Central failed:"
    tail -n 20 "$work/mvn.log" >&2
    exit 1
  fi
}

# The launcher classes each script starts; they moved between releases.
declare -A classes3=(
  [kafka-server-start.sh]=kafka.Kafka
  [kafka-storage.sh]=kafka.tools.StorageTool
  [kafka-topics.sh]=org.apache.kafka.tools.TopicCommand
  [kafka-console-producer.sh]=kafka.tools.ConsoleProducer
  [kafka-console-consumer.sh]=org.apache.kafka.tools.consumer.ConsoleConsumer
  [kafka-broker-api-versions.sh]=kafka.admin.BrokerApiVersionsCommand
  [kafka-get-offsets.sh]=org.apache.kafka.tools.GetOffsetShell
  [kafka-metadata-quorum.sh]=org.apache.kafka.tools.MetadataQuorumCommand
  [kafka-consumer-groups.sh]=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
  [kafka-cluster.sh]=kafka.tools.ClusterTool
)
declare -A classes4=(
  [kafka-server-start.sh]=kafka.Kafka
  [kafka-storage.sh]=kafka.tools.StorageTool
  [kafka-topics.sh]=org.apache.kafka.tools.TopicCommand
  [kafka-console-producer.sh]=org.apache.kafka.tools.ConsoleProducer
  [kafka-console-consumer.sh]=org.apache.kafka.tools.consumer.ConsoleConsumer
  [kafka-broker-api-versions.sh]=org.apache.kafka.tools.BrokerApiVersionsCommand
  [kafka-get-offsets.sh]=org.apache.kafka.tools.GetOffsetShell
  [kafka-metadata-quorum.sh]=org.apache.kafka.tools.MetadataQuorumCommand
  [kafka-consumer-groups.sh]=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand
  [kafka-cluster.sh]=org.apache.kafka.tools.ClusterTool
)

write_bin() {
  local version=$1 root=$2
  local major=${version%%.*}
  local broker_log4j tools_log4j
  if [ "$major" -ge 4 ]; then
    broker_log4j='-Dlog4j2.configurationFile=$base_dir/../config/log4j2.yaml'
    tools_log4j='-Dlog4j2.configurationFile=$base_dir/config/tools-log4j2.yaml'
  else
    broker_log4j='-Dlog4j.configuration=file:$base_dir/../config/log4j.properties'
    tools_log4j='-Dlog4j.configuration=file:$base_dir/config/tools-log4j.properties'
  fi

  # kafka-run-class.sh: like upstream's, options in KAFKA_* variables are split on
  # whitespace (that is their documented interface), but into arrays, and java is exec'd.
  cat >"$root/bin/kafka-run-class.sh" <<EOF
#!/usr/bin/env bash
# Runs a Kafka class with the libs/ classpath (minimal equivalent of Apache Kafka $version's script).
if [ \$# -lt 1 ]; then
  echo "USAGE: \$0 [-daemon] [-name servicename] [-loggc] classname [opts]"
  exit 1
fi
base_dir=\$(cd "\$(dirname "\$0")/.." && pwd)

CLASSPATH=\${CLASSPATH:-}
for file in "\$base_dir"/libs/*.jar; do
  CLASSPATH="\$CLASSPATH\${CLASSPATH:+:}\$file"
done

LOG_DIR=\${LOG_DIR:-\$base_dir/logs}
mkdir -p "\$LOG_DIR"
KAFKA_LOG4J_OPTS="-Dkafka.logs.dir=\$LOG_DIR \${KAFKA_LOG4J_OPTS:-$tools_log4j}"
KAFKA_HEAP_OPTS=\${KAFKA_HEAP_OPTS:--Xmx256M}
KAFKA_JVM_PERFORMANCE_OPTS=\${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}
if [ -n "\${JAVA_HOME:-}" ]; then JAVA="\$JAVA_HOME/bin/java"; else JAVA=java; fi

DAEMON_MODE=false
DAEMON_NAME=""
GC_LOG_ENABLED=false
while [ \$# -gt 0 ]; do
  case "\$1" in
    -name) DAEMON_NAME=\$2; shift 2 ;;
    -loggc) GC_LOG_ENABLED=true; shift ;;
    -daemon) DAEMON_MODE=true; shift ;;
    *) break ;;
  esac
done

opts=()
read -r -a part <<<"\$KAFKA_HEAP_OPTS"; opts+=("\${part[@]}")
read -r -a part <<<"\$KAFKA_JVM_PERFORMANCE_OPTS"; opts+=("\${part[@]}")
if [ "\$GC_LOG_ENABLED" = true ] && [ -n "\$DAEMON_NAME" ]; then
  opts+=("-Xlog:gc*:file=\$LOG_DIR/\$DAEMON_NAME-gc.log:time,tags:filecount=10,filesize=100M")
fi
read -r -a part <<<"\${KAFKA_JMX_OPTS:-}"; opts+=("\${part[@]}")
read -r -a part <<<"\$KAFKA_LOG4J_OPTS"; opts+=("\${part[@]}")
read -r -a part <<<"\${KAFKA_OPTS:-}"; opts+=("\${part[@]}")

if [ "\$DAEMON_MODE" = true ]; then
  nohup "\$JAVA" "\${opts[@]}" -cp "\$CLASSPATH" "\$@" >"\$LOG_DIR/\${DAEMON_NAME:-kafka}.out" 2>&1 </dev/null &
else
  exec "\$JAVA" "\${opts[@]}" -cp "\$CLASSPATH" "\$@"
fi
EOF

  cat >"$root/bin/kafka-server-start.sh" <<EOF
#!/usr/bin/env bash
# Starts a Kafka broker and/or controller from a properties file.
if [ \$# -lt 1 ]; then
  echo "USAGE: \$0 [-daemon] server.properties [--override property=value]*"
  exit 1
fi
base_dir=\$(dirname "\$0")
export KAFKA_LOG4J_OPTS=\${KAFKA_LOG4J_OPTS:-"$broker_log4j"}
export KAFKA_HEAP_OPTS=\${KAFKA_HEAP_OPTS:-"-Xmx1G -Xms1G"}
extra_args=(-name kafkaServer -loggc)
if [ "\$1" = -daemon ]; then
  extra_args=(-daemon "\${extra_args[@]}")
  shift
fi
exec "\$base_dir/kafka-run-class.sh" "\${extra_args[@]}" kafka.Kafka "\$@"
EOF

  cat >"$root/bin/kafka-server-stop.sh" <<'EOF'
#!/usr/bin/env bash
# Stops the Kafka servers of this machine (SIGNAL, default TERM), as upstream's script does.
SIGNAL=${SIGNAL:-TERM}
mapfile -t pids < <(pgrep -f 'java.* kafka\.Kafka ')
if [ ${#pids[@]} -eq 0 ]; then
  echo "No kafka server to stop"
  exit 1
fi
kill -s "$SIGNAL" "${pids[@]}"
EOF

  local -n classes="classes$major"
  local script
  for script in "${!classes[@]}"; do
    [ "$script" = kafka-server-start.sh ] && continue
    local heap=""
    case "$script" in
      kafka-console-producer.sh | kafka-console-consumer.sh)
        heap='export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:-"-Xmx512M"}' ;;
    esac
    cat >"$root/bin/$script" <<EOF
#!/usr/bin/env bash
$heap
exec "\$(dirname "\$0")/kafka-run-class.sh" ${classes[$script]} "\$@"
EOF
    sed -i '2{/^$/d}' "$root/bin/$script"
  done
  chmod 0755 "$root"/bin/*.sh
}

# check_classes ROOT: every class a script starts must be in libs/, so a release that
# moved a tool fails here and not in a test far away.
check_classes() {
  local root=$1 listing script class
  listing=$(for jar in "$root"/libs/*.jar; do unzip -Z1 "$jar"; done)
  for script in "$root"/bin/*.sh; do
    class=$(grep -o 'kafka-run-class.sh" [A-Za-z.]*\|kafka-run-class.sh" "\${extra_args\[@\]}" [A-Za-z.]*' "$script" | awk '{print $NF}' || true)
    [ -z "$class" ] && continue
    if ! grep -qx "${class//.//}.class" <<<"$listing"; then
      say "kafka fixture: $(basename "$script") starts $class, which is not in libs/"
      exit 1
    fi
  done
}

write_config() {
  local version=$1 root=$2
  local major=${version%%.*}
  local kraft_dir="$root/config"
  if [ "$major" -lt 4 ]; then
    kraft_dir="$root/config/kraft"
    mkdir -p "$kraft_dir"
    write_zookeeper_config "$root/config"
  fi
  local common
  common=$(
    cat <<'EOF'
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
EOF
  )
  # 4.x formats a dynamic quorum (`kafka-storage.sh format --standalone`); 3.9's
  # shipped kraft/server.properties still names a static voter set.
  local quorum="controller.quorum.voters=1@localhost:9093"
  if [ "$major" -ge 4 ]; then quorum="controller.quorum.bootstrap.servers=localhost:9093"; fi
  local share=""
  if [ "$major" -ge 4 ]; then
    share=$'share.coordinator.state.topic.replication.factor=1\nshare.coordinator.state.topic.min.isr=1'
  fi
  cat >"$kraft_dir/server.properties" <<EOF
# KRaft combined mode: this server is both broker and controller.
process.roles=broker,controller
node.id=1
$quorum
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
log.dirs=/tmp/kraft-combined-logs
$common
$share
EOF
  cat >"$kraft_dir/broker.properties" <<EOF
# KRaft: a broker that uses the controllers below.
process.roles=broker
node.id=2
controller.quorum.bootstrap.servers=localhost:9093
listeners=PLAINTEXT://localhost:9092
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
log.dirs=/tmp/kraft-broker-logs
$common
$share
EOF
  cat >"$kraft_dir/controller.properties" <<EOF
# KRaft: a controller only.
process.roles=controller
node.id=1
controller.quorum.bootstrap.servers=localhost:9093
listeners=CONTROLLER://:9093
advertised.listeners=CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
log.dirs=/tmp/kraft-controller-logs
$common
EOF
  printf 'bootstrap.servers=localhost:9092\ncompression.type=none\n' >"$root/config/producer.properties"
  printf 'bootstrap.servers=localhost:9092\ngroup.id=test-consumer-group\n' >"$root/config/consumer.properties"

  if [ "$major" -ge 4 ]; then
    write_log4j2_config "$root/config"
  else
    write_log4j_config "$root/config"
  fi
}

write_zookeeper_config() {
  cat >"$1/server.properties" <<'EOF'
# ZooKeeper mode (deprecated in 3.x, removed in 4.0).
broker.id=0
listeners=PLAINTEXT://:9092
log.dirs=/tmp/kafka-logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
zookeeper.connect=localhost:2181
zookeeper.connection.timeout.ms=18000
group.initial.rebalance.delay.ms=0
EOF
}

write_log4j_config() {
  cat >"$1/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout, kafkaAppender

log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.appender.kafkaAppender=org.apache.log4j.DailyRollingFileAppender
log4j.appender.kafkaAppender.DatePattern='.'yyyy-MM-dd-HH
log4j.appender.kafkaAppender.File=${kafka.logs.dir}/server.log
log4j.appender.kafkaAppender.layout=org.apache.log4j.PatternLayout
log4j.appender.kafkaAppender.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.appender.stateChangeAppender=org.apache.log4j.DailyRollingFileAppender
log4j.appender.stateChangeAppender.DatePattern='.'yyyy-MM-dd-HH
log4j.appender.stateChangeAppender.File=${kafka.logs.dir}/state-change.log
log4j.appender.stateChangeAppender.layout=org.apache.log4j.PatternLayout
log4j.appender.stateChangeAppender.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka=INFO
log4j.logger.state.change.logger=INFO, stateChangeAppender
log4j.additivity.state.change.logger=false
EOF
  cat >"$1/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr

log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.appender.stderr.Target=System.err
EOF
}

write_log4j2_config() {
  cat >"$1/log4j2.yaml" <<'EOF'
Configuration:
  Properties:
    Property:
      - name: "kafka.logs.dir"
        value: "."
      - name: "logPattern"
        value: "[%d] %p %m (%c)%n"
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "${logPattern}"
    RollingFile:
      - name: KafkaAppender
        fileName: "${sys:kafka.logs.dir}/server.log"
        filePattern: "${sys:kafka.logs.dir}/server.log.%d{yyyy-MM-dd-HH}"
        PatternLayout:
          pattern: "${logPattern}"
        TimeBasedTriggeringPolicy:
          modulate: true
          interval: 1
      - name: StateChangeAppender
        fileName: "${sys:kafka.logs.dir}/state-change.log"
        filePattern: "${sys:kafka.logs.dir}/state-change.log.%d{yyyy-MM-dd-HH}"
        PatternLayout:
          pattern: "${logPattern}"
        TimeBasedTriggeringPolicy:
          modulate: true
          interval: 1
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
        - ref: KafkaAppender
    Logger:
      - name: state.change.logger
        level: INFO
        additivity: false
        AppenderRef:
          ref: StateChangeAppender
EOF
  cat >"$1/tools-log4j2.yaml" <<'EOF'
Configuration:
  Properties:
    Property:
      - name: "logPattern"
        value: "[%d] %p %m (%c)%n"
  Appenders:
    Console:
      name: STDERR
      target: SYSTEM_ERR
      PatternLayout:
        pattern: "${logPattern}"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDERR
EOF
}

# LICENSE and NOTICE as Apache ships them; licenses/ holds each bundled jar's own
# license text, as the official tarball does for its third-party libraries.
write_legal() {
  local version=$1 root=$2
  cp /usr/share/common-licenses/Apache-2.0 "$root/LICENSE"
  cat >"$root/NOTICE" <<EOF
Apache Kafka
Copyright $(date -u -d "@$epoch" +%Y) The Apache Software Foundation.

This product includes software developed at
The Apache Software Foundation (https://www.apache.org/).

This tarball was assembled by imagewright's test stack from the Kafka $version jars
published on Maven Central; it is not an official Apache release artifact.
EOF
  local jar entry
  for jar in "$root"/libs/*.jar; do
    entry=$(unzip -Z1 "$jar" 2>/dev/null | grep -m1 -E '^META-INF/LICENSE(\.txt|\.md)?$' || true)
    if [ -n "$entry" ]; then
      unzip -p "$jar" "$entry" >"$root/licenses/$(basename "$jar" .jar)-LICENSE"
    fi
  done
}

# write_checksums DIR FILE: FILE.sha512 in the layout `gpg --print-md SHA512` prints
# (what Apache Kafka publishes) and FILE.sha512sum in coreutils' layout.
write_checksums() {
  local dir=$1 file=$2 hex
  hex=$(sha512sum "$dir/$file" | cut -d' ' -f1)
  (cd "$dir" && sha512sum "$file" >"$file.sha512sum")
  # gpg groups the digest in 8-digit words and wraps before column 80, under the name.
  printf '%s' "$hex" | tr 'a-f' 'A-F' | fold -w8 | awk -v prefix="$file: " '
    NR == 1 { line = prefix $0; indent = sprintf("%" length(prefix) "s", ""); next }
    length(line) + 9 > 79 { print line; line = indent $0; next }
    { line = line " " $0 }
    END { print line }' >"$dir/$file.sha512"
}

main "$@"
