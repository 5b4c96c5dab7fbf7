#!/usr/bin/python3
"""A Modbus RTU slave standing in for HDHK meters, for test/integration/hdhk.pymodbus.test.ts.

Run with Debian's python3-pymodbus (3.0): hdhk_slave.py <serial path | tcp:PORT> '<json>' where the JSON
maps unit ids to register lists from address 0 (docs/protocols/hdhk.md §2.3). A unit whose list is
shorter than 24 registers answers the current read with exception 2 (illegal data address);
unit ids not listed stay silent, as an absent meter on RS-485 would (a Modbus TCP server, `tcp:PORT` on 127.0.0.1 with MBAP
framing, answers them with nothing too). Prints "ready" once the port is open.
"""
import asyncio
import json
import sys

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusServerContext, ModbusSlaveContext
from pymodbus.server import StartAsyncSerialServer, StartAsyncTcpServer
from pymodbus.transaction import ModbusRtuFramer, ModbusSocketFramer


async def main() -> None:
    port, spec = sys.argv[1], json.loads(sys.argv[2])
    slaves = {
        int(unit): ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, regs), zero_mode=True)
        for unit, regs in spec.items()
    }
    context = ModbusServerContext(slaves=slaves, single=False)
    if port.startswith("tcp:"):
        server = await StartAsyncTcpServer(
            context=context,
            framer=ModbusSocketFramer,
            address=("127.0.0.1", int(port[4:])),
            # A restarted server binds the port its killed predecessor left in TIME_WAIT.
            allow_reuse_address=True,
            ignore_missing_slaves=True,
            defer_start=True,
        )
        serving = asyncio.get_running_loop().create_task(server.serve_forever())
        # serve_forever() binds the socket first: "ready" only once it listens.
        while getattr(server, "server", None) is None:
            if serving.done():
                sys.exit(f"cannot listen on {port}: {serving.exception()}")
            await asyncio.sleep(0.02)
        print("ready", flush=True)
        await serving
        return
    server = await StartAsyncSerialServer(
        context=context,
        framer=ModbusRtuFramer,
        port=port,
        baudrate=9600,
        bytesize=8,
        parity="N",
        stopbits=1,
        ignore_missing_slaves=True,
        defer_start=True,
    )
    await server.start()
    if server.transport is None:
        sys.exit(f"cannot open {port}")
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
