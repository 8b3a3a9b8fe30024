// Minimal Socket.IO rooms server, the Socket.IO peer of roomcast-bench.
// Clients: ws://HOST:PORT/socket.io/?EIO=4&transport=websocket, then emit "join" <room>
// (answered with "joined"). Publish: POST /pub/<room> with a raw body; every member of the
// room receives the event "m" with the body as a string. GET /health answers "ok".
'use strict';
const http = require('node:http');
const { Server } = require('socket.io');

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';

const server = http.createServer((req, res) => {
  const m = /^\/pub\/(\w+)$/.exec(req.url);
  if (m && req.method === 'POST') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      io.to(m[1]).emit('m', Buffer.concat(chunks).toString('utf8'));
      res.writeHead(202, { 'Content-Type': 'text/plain', 'Content-Length': '3' });
      res.end('ok\n');
    });
    return;
  }
  if (req.url === '/health') {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '3' });
    res.end('ok\n');
    return;
  }
  if (!req.url.startsWith('/socket.io/')) {
    res.writeHead(404, { 'Content-Length': '0' });
    res.end();
  }
});
server.keepAliveTimeout = 300000;
server.headersTimeout = 310000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

const io = new Server(server, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
});

io.on('connection', (socket) => {
  socket.on('join', (room) => {
    socket.join(String(room));
    socket.emit('joined', String(room));
  });
});

server.listen({ port, host, backlog: 4096 }, () => {
  console.log(`socket.io peer listening on ${host}:${port}`);
});

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
