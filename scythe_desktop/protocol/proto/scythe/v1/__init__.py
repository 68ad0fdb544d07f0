"""Generated scythe.v1 protobuf modules (see scripts/codegen.py)."""
