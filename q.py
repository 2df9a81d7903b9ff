import socket,struct
s=socket.create_connection(("127.0.0.1",19077))
def rec(t,c): return struct.pack(">BBHHBx",1,t,1,len(c),0)+c
def nv(k,v): return bytes([len(k),len(v)])+k+v
p=nv(b"REQUEST_METHOD",b"GET")+nv(b"REQUEST_URI",b"/api/runtimes/v/workers")
s.sendall(rec(1,struct.pack(">HB5x",1,0))+rec(4,p)+rec(4,b"")+rec(5,b""))
print(s.recv(4096)[:120])
