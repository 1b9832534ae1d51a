// Drives kafkajs for Seiche's compatibility matrix; see README.md for the protocol.
'use strict'

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'
const { Kafka, logLevel } = require('kafkajs')

const [mode, bootstrap, topic, group, count] = process.argv.slice(2)
const kafka = new Kafka({
  clientId: 'seiche-compat',
  brokers: [bootstrap],
  logLevel: logLevel.WARN,
  retry: { retries: 5 },
})
const groupOptions = {
  groupId: group,
  heartbeatInterval: 500,
  sessionTimeout: 10000,
  rebalanceTimeout: 10000,
  maxWaitTimeInMs: 200, // a fetch long-polls at most this long, so disconnect is quick
}

const out = (...args) => process.stdout.write(args.join(' ') + '\n')

function readStdin () {
  return new Promise((resolve, reject) => {
    let data = ''
    process.stdin.setEncoding('utf8')
    process.stdin.on('data', (chunk) => { data += chunk })
    process.stdin.on('end', () => resolve(data))
    process.stdin.on('error', reject)
  })
}

async function produce () {
  const values = (await readStdin()).split('\n').map((l) => l.trim()).filter((l) => l)
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  await producer.send({ topic, acks: -1, messages: values.map((v) => ({ key: v, value: v })) })
  await producer.disconnect()
  out('produced', values.length)
}

// onCrash fails the program on a consumer crash kafkajs does not recover from by restarting.
function onCrash (e, reject) {
  out('crash', e.payload.restart ? '(restarting)' : '', e.payload.error)
  if (!e.payload.restart) reject(e.payload.error)
}

// consumeN reads n records as a member of a group and, with commit, commits what it read.
async function consumeN (n, commit) {
  const consumer = kafka.consumer(groupOptions)
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const next = {}
  let got = 0
  await new Promise((resolve, reject) => {
    consumer.on(consumer.events.CRASH, (e) => onCrash(e, reject))
    consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (got >= n) return
        out('rec', partition, message.offset, message.value.toString())
        next[partition] = (BigInt(message.offset) + 1n).toString()
        got++
        if (got >= n) resolve()
      },
    }).catch(reject)
  })
  if (commit) {
    await consumer.commitOffsets(Object.entries(next).map(([partition, offset]) => ({ topic, partition: Number(partition), offset })))
  }
  await consumer.disconnect()
}

async function member () {
  const consumer = kafka.consumer(groupOptions)
  consumer.on(consumer.events.GROUP_JOIN, (e) => out('assigned', JSON.stringify(e.payload.memberAssignment)))
  const crashed = new Promise((resolve, reject) => consumer.on(consumer.events.CRASH, (e) => onCrash(e, reject)))
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({
    autoCommitInterval: 200,
    eachMessage: async ({ partition, message }) => out('rec', partition, message.offset, message.value.toString()),
  })
  await Promise.race([readStdin(), crashed])
  await consumer.disconnect()
}

async function main () {
  switch (mode) {
    case 'produce': return produce()
    case 'consume': return consumeN(Number(count), false)
    case 'commit': return consumeN(Number(count), true)
    case 'member': return member()
    default: throw new Error('unknown mode ' + mode)
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err)
  process.exit(1)
})
