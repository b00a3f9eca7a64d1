# Socket activation without systemd, for tests: binds listening sockets (argv: "inet" for
# 127.0.0.1 on a free port, "inet6" for ::1, or a UNIX socket path), moves them to descriptors 3, 4…,
# sets LISTEN_FDS and LISTEN_PID as systemd does, prints the addresses as one JSON line, and
# execs the command after "--" (the same process, so LISTEN_PID stays right).
import json, os, socket, sys

split = sys.argv.index("--")
specs, command = sys.argv[1:split], sys.argv[split + 1:]
sockets, addresses = [], []
for spec in specs:
    if spec == "inet":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        addresses.append(s.getsockname()[1])
    elif spec == "inet6":
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        addresses.append(s.getsockname()[1])
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(spec)
        addresses.append(spec)
    s.listen(16)
    sockets.append(s)
for index, s in enumerate(sockets):
    os.dup2(s.fileno(), 3 + index)
    os.set_inheritable(3 + index, True)
os.environ["LISTEN_FDS"] = str(len(sockets))
os.environ["LISTEN_PID"] = str(os.getpid())
print(json.dumps({"addresses": addresses}), flush=True)
os.execvp(command[0], command)
