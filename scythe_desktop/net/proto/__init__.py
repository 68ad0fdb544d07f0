"""Generated scythe.v1 protobuf modules (see scythe_desktop/net/codegen.py)."""
