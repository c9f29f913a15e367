"""The composition root: the settings, the configuration and the clearinghouse they make."""

from __future__ import annotations

from dataclasses import dataclass

from rcm_clearinghouse_sim.config import ClearinghouseSettings, SimulatorConfig, load_config
from rcm_clearinghouse_sim.service_layer.clearinghouse import Clearinghouse
from rcm_common.types import Clock, utcnow


@dataclass
class Simulator:
    settings: ClearinghouseSettings
    config: SimulatorConfig
    clearinghouse: Clearinghouse


def bootstrap(
    settings: ClearinghouseSettings | None = None,
    *,
    config: SimulatorConfig | None = None,
    clock: Clock = utcnow,
) -> Simulator:
    settings = settings or ClearinghouseSettings()
    config = config or load_config(settings)
    return Simulator(settings, config, Clearinghouse(config, clock))
