#!/usr/bin/env node
/**
 * Wechaty's own puppet-service server (npm wechaty-puppet-service, the code
 * providers run) serving a wechaty-puppet-mock WeChat, for qunguard's adapter
 * tests. Plain gRPC on 127.0.0.1 only.
 *
 * Driven over stdio, one JSON object per line:
 *   stdout  {"qg":"ready","grpc":"127.0.0.1:PORT"}            once listening
 *           {"qg":"reply","id":N,"ok":true,...}              per command
 *           {"qg":"did","op":"say"|"announce"|"kick",...}    what the bot did
 *   stdin   {"id":N,"cmd":"say","from":ID,"room":ID,"text":S,"mentions":[ID]}   (or "to":ID: one-to-one)
 *           {"id":N,"cmd":"image","from":ID,"room":ID,"base64":S,"name":S}
 *           {"id":N,"cmd":"join","contact":ID,"name":S,"inviter":ID}
 *           {"id":N,"cmd":"leave","contact":ID,"remover":ID}
 *           {"id":N,"cmd":"topic","topic":S,"by":ID}
 *           {"id":N,"cmd":"error","message":S}
 *           {"id":N,"cmd":"state"}
 * Env: QG_GRPC_PORT (required), QG_TOKEN (default "qunguard-test-token").
 * Exits on SIGTERM/SIGINT or when stdin closes.
 */
'use strict'

const readline = require('readline')
const PUPPET = require('wechaty-puppet')
const { FileBox } = require('file-box')
const { PuppetServer } = require('wechaty-puppet-service')
const { PuppetMock, mock } = require('wechaty-puppet-mock')

const HOST = '127.0.0.1'
const PORT = parseInt(process.env.QG_GRPC_PORT || '', 10)
const TOKEN = process.env.QG_TOKEN || 'qunguard-test-token'
if (!PORT) {
  console.error('QG_GRPC_PORT is required')
  process.exit(2)
}

function out (obj) { process.stdout.write(JSON.stringify({ qg: obj.qg, ...obj }) + '\n') }

const BOT = { id: 'wxid_qunguard_bot', name: '群管机器人' }
const MEMBERS = [
  { id: 'wxid_zhangsan', name: '张三' },
  { id: 'wxid_lisi', name: '李四' },
]
const ROOM = { id: '20000000001@chatroom', topic: '测试群' }

const mocker = new mock.Mocker()
const puppet = new PuppetMock({ mocker })

const bot = mocker.createContact({ ...BOT, friend: false })
for (const m of MEMBERS) mocker.createContact({ ...m, friend: true })
mocker.createRoom({
  id: ROOM.id,
  topic: ROOM.topic,
  ownerId: BOT.id,
  adminIdList: [BOT.id],
  memberIdList: [BOT.id, ...MEMBERS.map(m => m.id)],
})

// Each Start (the client's Stop+Start) logs the bot in, as a provider would.
mocker.use(function logIn (m) {
  if (!puppet.isLoggedIn) m.login(bot)
  const t = setTimeout(() => puppet.emit('ready', { data: 'ready' }), 100)
  return () => clearTimeout(t)
})

// The stock mock answers every image with a fake QR code; give back what was posted.
puppet.messageImage = async (messageId) => puppet.messageFile(messageId)

// Record what the bot does.
const sendText = puppet.messageSendText.bind(puppet)
puppet.messageSendText = async (conversationId, text, mentionIdList) => {
  out({ qg: 'did', op: 'say', conversationId, text, mentionIdList: mentionIdList || [] })
  return sendText(conversationId, text, mentionIdList)
}
const notices = new Map()
puppet.roomAnnounce = async (roomId, text) => {
  if (typeof text === 'undefined') return notices.get(roomId) || ''
  notices.set(roomId, text)
  out({ qg: 'did', op: 'announce', roomId, text })
}

// The stock mock's roomDel does nothing; remove the member and report it, as WeChat does.
puppet.roomDel = async (roomId, contactId) => {
  const room = mocker.roomPayload(roomId)
  if (!room.memberIdList.includes(contactId)) throw new Error(`${contactId} is not in ${roomId}`)
  room.memberIdList = room.memberIdList.filter(id => id !== contactId)
  puppet.dirtyPayload(PUPPET.types.Dirty.Room, roomId)
  puppet.dirtyPayload(PUPPET.types.Dirty.RoomMember, roomId)
  out({ qg: 'did', op: 'kick', roomId, contactId })
  setImmediate(() => puppet.emit('room-leave', {
    removeeIdList: [contactId], removerId: puppet.currentUserId, roomId, timestamp: Date.now(),
  }))
}

const commands = {
  say ({ from, room, to, text, mentions }) {
    const talker = mocker.ContactMock.load(from)
    if (to) { // one-to-one, e.g. to the bot
      talker.say(text).to(mocker.ContactMock.load(to))
      return {}
    }
    const mentioned = (mentions || []).map(id => mocker.ContactMock.load(id))
    talker.say(text, mentioned).to(mocker.RoomMock.load(room || ROOM.id))
    return {}
  },
  image ({ from, room, base64, name }) {
    const box = FileBox.fromBase64(base64, name || 'image.png')
    mocker.ContactMock.load(from).say(box).to(mocker.RoomMock.load(room || ROOM.id))
    return { size: Buffer.from(base64, 'base64').length }
  },
  join ({ room, contact, name, inviter }) {
    const c = mocker.cacheContactPayload.has(contact)
      ? mocker.ContactMock.load(contact)
      : mocker.createContact({ id: contact, name: name || contact, friend: false })
    mocker.RoomMock.load(room || ROOM.id).add(c).by(mocker.ContactMock.load(inviter))
    puppet.dirtyPayload(PUPPET.types.Dirty.RoomMember, room || ROOM.id)
    return {}
  },
  leave ({ room, contact, remover }) {
    const c = mocker.ContactMock.load(contact)
    mocker.RoomMock.load(room || ROOM.id).remove(c).by(mocker.ContactMock.load(remover || contact))
    puppet.dirtyPayload(PUPPET.types.Dirty.RoomMember, room || ROOM.id)
    return {}
  },
  topic ({ room, topic, by }) {
    mocker.RoomMock.load(room || ROOM.id).topic(topic).by(mocker.ContactMock.load(by))
    puppet.dirtyPayload(PUPPET.types.Dirty.Room, room || ROOM.id)
    return {}
  },
  error ({ message }) {
    // wechaty-puppet 1.x sends this down the stream as {gerror}
    puppet.emit('error', new Error(message || 'test error'))
    return {}
  },
  state () {
    return { loggedIn: puppet.isLoggedIn, attached: puppet.listenerCount('message') > 0 }
  },
}

async function main () {
  const server = new PuppetServer({ endpoint: `${HOST}:${PORT}`, puppet, token: TOKEN, tls: { disable: true } })
  await server.start()
  out({ qg: 'ready', grpc: `${HOST}:${PORT}`, pid: process.pid })

  const stop = async () => {
    try { await server.stop() } catch (_) {}
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)

  const lines = readline.createInterface({ input: process.stdin })
  lines.on('line', line => {
    let msg
    try { msg = JSON.parse(line) } catch (e) { return out({ qg: 'reply', ok: false, error: 'bad JSON' }) }
    const fn = commands[msg.cmd]
    try {
      if (!fn) throw new Error(`unknown command ${msg.cmd}`)
      out({ qg: 'reply', id: msg.id, ok: true, ...fn(msg) })
    } catch (e) {
      out({ qg: 'reply', id: msg.id, ok: false, error: String(e && e.message || e) })
    }
  })
  lines.on('close', stop)
}

main().catch(e => {
  console.error('server failed to start:', e)
  process.exit(1)
})
