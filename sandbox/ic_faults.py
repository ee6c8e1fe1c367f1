"""Faults for the simulated Infinite Campus: the sandbox's usual ones, plus "applied_drop".

"applied_drop" is opt-in: the server applies the write, then drops the connection before
answering, so the client cannot know it landed. A retried PUT must then be an idempotent
update, which is exactly what the passback has to survive.
"""

from random import Random

from sandbox.faults import FAULT_KINDS, FaultInjector

APPLIED_DROP = "applied_drop"
IC_FAULT_KINDS = (*FAULT_KINDS, APPLIED_DROP)


class IcFaultInjector(FaultInjector):
    def __init__(
        self,
        rate: float = 0.0,
        *,
        seed: int = 0,
        kinds: tuple[str, ...] = FAULT_KINDS,
        slow_delay: float = 2.0,
        retry_after: int = 1,
    ) -> None:
        unknown = set(kinds) - set(IC_FAULT_KINDS)
        if unknown or not kinds:
            raise ValueError(f"IC fault kinds must be among {IC_FAULT_KINDS}")
        super().__init__(rate, seed=seed, slow_delay=slow_delay, retry_after=retry_after)
        self.kinds = tuple(kinds)
        self.seed = seed
        # Its own sequence: faulting IC must not shift which Canvas requests fail.
        self._rng = Random(f"{seed}:ic-faults")
