// Floods a UDP port on 127.0.0.1 from one address: argv[2] = port,
// argv[3] = datagrams to send (bounded by the caller), argv[4] = seconds at
// most. Sends in bursts of 64 with a setImmediate between them so the child's
// own sends do not block; prints the number sent and exits.
import { createSocket } from 'node:dgram';

const port = Number(process.argv[2]);
const total = Number(process.argv[3]);
const seconds = Number(process.argv[4]);
const socket = createSocket('udp4');
const payload = Buffer.alloc(64, 7);
const deadline = Date.now() + seconds * 1000;
let sent = 0;
let pending = 0;
function burst() {
  if (sent >= total || Date.now() > deadline) {
    const finish = () => {
      if (pending > 0) return void setImmediate(finish);
      process.stdout.write(`${String(sent)}\n`);
      socket.close();
    };
    finish();
    return;
  }
  for (let i = 0; i < 64 && sent < total; i++) {
    sent++;
    pending++;
    socket.send(payload, port, '127.0.0.1', () => {
      pending--;
    });
  }
  setImmediate(burst);
}
socket.bind(0, '127.0.0.1', burst);
