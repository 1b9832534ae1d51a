"""Drives kafka-python for Seiche's compatibility matrix; see README.md for the protocol."""

import sys
import threading

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

COMMON = dict(client_id="seiche-compat", request_timeout_ms=30000)
GROUP = dict(
    auto_offset_reset="earliest",
    heartbeat_interval_ms=500,
    session_timeout_ms=10000,
)


def out(*args):
    print(*args, flush=True)


def emit(batch):
    n = 0
    for msgs in batch.values():
        for m in msgs:
            out("rec", m.partition, m.offset, m.value.decode())
            n += 1
    return n


def produce(bootstrap, topic):
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=5, linger_ms=5, **COMMON)
    values = [line.strip() for line in sys.stdin if line.strip()]
    futures = [p.send(topic, key=v.encode(), value=v.encode()) for v in values]
    for f in futures:
        f.get(timeout=30)
    p.close()
    out("produced", len(values))


def consume(bootstrap, topic, count):
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **COMMON)
    parts = None
    while not parts:
        parts = c.partitions_for_topic(topic)
    tps = [TopicPartition(topic, p) for p in sorted(parts)]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    got = 0
    while got < count:
        got += emit(c.poll(timeout_ms=500))
    c.close()


def commit(bootstrap, topic, group, count):
    c = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, **GROUP, **COMMON
    )
    got = 0
    while got < count:
        got += emit(c.poll(timeout_ms=500, max_records=count - got))
    c.commit()
    c.close()


def member(bootstrap, topic, group):
    stop = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    c = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=True,
        auto_commit_interval_ms=200,
        **GROUP,
        **COMMON,
    )
    assigned = None
    while not stop.is_set():
        emit(c.poll(timeout_ms=200))
        now = sorted(tp.partition for tp in c.assignment())
        if now != assigned:
            assigned = now
            out("assigned", assigned)
    c.close()


def main():
    mode, bootstrap, topic = sys.argv[1:4]
    rest = sys.argv[4:]
    if mode == "produce":
        produce(bootstrap, topic)
    elif mode == "consume":
        consume(bootstrap, topic, int(rest[1]))
    elif mode == "commit":
        commit(bootstrap, topic, rest[0], int(rest[1]))
    elif mode == "member":
        member(bootstrap, topic, rest[0])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
