"""What the generated callbacks of :mod:`bayescale.sampling.native` import: an address (a
64-bit integer of the address table) as a pointer numba can view as an array."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["HEADER", "as_pointer", "call_joint"]

HEADER = 8  # words of the address table before the data arguments (see native_callbacks)


@intrinsic
def as_pointer(typingctx, address):
    """``void*`` from an integer address (for ``numba.carray``)."""

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


@intrinsic
def call_joint(typingctx, address, x, out, user):
    """Call the C function at ``address`` (``int64 f(double *x, double *out, void *user)``,
    a generated ``joint_c``) on the data of arrays ``x`` and ``out``; returns its code.

    Calling through an address keeps the model's code out of the calling callback: numba links a
    called function's code into the caller and optimises it again, once per caller."""

    def codegen(context, builder, signature, args):
        addr, x_value, out_value, user_value = args
        x_array = context.make_array(signature.args[1])(context, builder, x_value)
        out_array = context.make_array(signature.args[2])(context, builder, out_value)
        double_p = ir.DoubleType().as_pointer()
        fnty = ir.FunctionType(ir.IntType(64), [double_p, double_p, cgutils.voidptr_t])
        fn = builder.inttoptr(addr, fnty.as_pointer())
        return builder.call(fn, [x_array.data, out_array.data, user_value])

    return types.int64(address, x, out, user), codegen
