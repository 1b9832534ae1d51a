"""Drives confluent-kafka-python (librdkafka) for Seiche's compatibility matrix; see README.md."""

import sys
import threading

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

GROUP = {
    "auto.offset.reset": "earliest",
    "heartbeat.interval.ms": 500,
    "session.timeout.ms": 10000,
}


def out(*args):
    print(*args, flush=True)


def emit(msg):
    if msg is None:
        return 0
    if msg.error():
        if msg.error().code() == -191:  # _PARTITION_EOF, informational
            return 0
        raise KafkaException(msg.error())
    out("rec", msg.partition(), msg.offset(), msg.value().decode())
    return 1


def produce(bootstrap, topic):
    p = Producer(
        {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 5}
    )
    errors = []

    def delivered(err, _msg):
        if err is not None:
            errors.append(err)

    values = [line.strip() for line in sys.stdin if line.strip()]
    for v in values:
        p.produce(topic, key=v, value=v, on_delivery=delivered)
        p.poll(0)
    left = p.flush(30)
    if left or errors:
        sys.exit(f"produce: {left} undelivered, errors {errors[:5]}")
    out("produced", len(values))


def consume(bootstrap, topic, group, count):
    # librdkafka needs a group.id to consume, but assign() joins no group and commits nothing.
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    md = c.list_topics(topic, timeout=10)
    parts = sorted(md.topics[topic].partitions)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
    got = 0
    while got < count:
        got += emit(c.poll(0.5))
    c.close()


def commit(bootstrap, topic, group, count):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False, **GROUP})
    c.subscribe([topic])
    got = 0
    while got < count:
        got += emit(c.poll(0.5))
    c.commit(asynchronous=False)
    c.close()


def member(bootstrap, topic, group):
    stop = threading.Event()

    def watch_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": True,
            "auto.commit.interval.ms": 200,
            **GROUP,
        }
    )
    c.subscribe(
        [topic],
        on_assign=lambda _c, tps: out("assigned", [tp.partition for tp in tps]),
        on_revoke=lambda _c, tps: out("revoked", [tp.partition for tp in tps]),
    )
    while not stop.is_set():
        emit(c.poll(0.2))
    c.close()


def main():
    mode, bootstrap, topic = sys.argv[1:4]
    rest = sys.argv[4:]
    if mode == "produce":
        produce(bootstrap, topic)
    elif mode == "consume":
        consume(bootstrap, topic, rest[0], int(rest[1]))
    elif mode == "commit":
        commit(bootstrap, topic, rest[0], int(rest[1]))
    elif mode == "member":
        member(bootstrap, topic, rest[0])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
