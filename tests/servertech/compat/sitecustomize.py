# Lets servertech-chat's integration suite (pydantic 2, websockets >= 11 sync client) run
# unchanged on Debian 12's packages (python3-pydantic 1.10, python3-websockets 10.4,
# python3-websocket 1.2): loaded by Python at start-up when this folder is on PYTHONPATH.
# roomcast's own code; nothing of servertech-chat is copied here.
import socket
import ssl
import sys
import types

import pydantic

if not hasattr(pydantic.BaseModel, "model_dump"):
    # pydantic 2 names of the pydantic 1 methods the suite calls.
    pydantic.BaseModel.model_dump = pydantic.BaseModel.dict
    pydantic.BaseModel.model_dump_json = pydantic.BaseModel.json
    pydantic.BaseModel.model_validate = classmethod(lambda cls, obj: cls.parse_obj(obj))
    pydantic.BaseModel.model_validate_json = classmethod(lambda cls, data: cls.parse_raw(data))

try:
    import websockets.sync.client  # noqa: F401  (websockets >= 11 has it)
except ImportError:
    import websocket as _wsc  # websocket-client
    from websockets.exceptions import ConnectionClosedError
    from websockets.frames import Close

    class ClientConnection:
        """The subset of websockets.sync.client.ClientConnection the suite uses."""

        def __init__(self, ws):
            self._ws = ws

        def send(self, message):
            self._ws.send(message)

        def recv(self, timeout=None):
            self._ws.settimeout(timeout)
            try:
                opcode, data = self._ws.recv_data(control_frame=False)
            except (_wsc.WebSocketTimeoutException, socket.timeout, BlockingIOError,
                    ssl.SSLWantReadError):
                raise TimeoutError("no message within the timeout")
            except _wsc.WebSocketConnectionClosedException:
                raise ConnectionClosedError(None, None)
            if opcode == _wsc.ABNF.OPCODE_CLOSE:
                code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
                raise ConnectionClosedError(Close(code, data[2:].decode("utf-8", "replace")), None)
            return data.decode("utf-8") if opcode == _wsc.ABNF.OPCODE_TEXT else data

        def close(self):
            try:
                self._ws.close(timeout=0.5)
            except Exception:
                pass

    def connect(uri, close_timeout=None, additional_headers=None, **_):
        headers = [f"{k}: {v}" for k, v in (additional_headers or {}).items()]
        return ClientConnection(_wsc.create_connection(uri, header=headers))

    sync = types.ModuleType("websockets.sync")
    client = types.ModuleType("websockets.sync.client")
    client.connect = connect
    client.ClientConnection = ClientConnection
    sync.client = client
    sys.modules["websockets.sync"] = sync
    sys.modules["websockets.sync.client"] = client
