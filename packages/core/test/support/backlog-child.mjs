// Opens COUNT connections to 127.0.0.1:PORT at once, waits until every one is
// established or none has been for 300 ms (a dropped SYN is retried only
// after a second), writes how many were established to OUT, and exits.
// The listening process does not accept meanwhile, so the count is what the
// kernel's accept queue held: the listen backlog, plus one.
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';

const [port, count, out] = process.argv.slice(2).map((arg, i) => (i < 2 ? Number(arg) : arg));
const sockets = [];
let connected = 0;
let last = Date.now();
for (let i = 0; i < count; i++) {
  const socket = connect(port, '127.0.0.1', () => {
    connected += 1;
    last = Date.now();
  });
  socket.on('error', () => {});
  sockets.push(socket);
}
const check = setInterval(() => {
  if (connected < count && Date.now() - last < 300) return;
  clearInterval(check);
  writeFileSync(out, String(connected));
  for (const socket of sockets) socket.destroy();
}, 20);
