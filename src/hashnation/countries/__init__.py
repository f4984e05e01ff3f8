"""Country packs: one folder of data per country, so that adopting HashNation needs no code.

See :mod:`hashnation.countries.pack` for the format. The bundled packs live beside this
module (``pakistan``, ``el-salvador``, ``argentina``, ``turkey``)::

    from hashnation.countries import load_pack
    pack = load_pack("el-salvador")
    pack.currency.code          # 'USD'
    pack.licences               # the regulator's licence types and rules
"""

from hashnation.countries.pack import (
    COUNTRY_PATH_ENV,
    DEFAULT_COUNTRY,
    PACK_FILE,
    CountryPack,
    Currency,
    VisaTerms,
    available_packs,
    bundled_packs_dir,
    load_pack,
    pack_folders,
    pack_kind,
)

__all__ = [
    "COUNTRY_PATH_ENV",
    "DEFAULT_COUNTRY",
    "PACK_FILE",
    "CountryPack",
    "Currency",
    "VisaTerms",
    "available_packs",
    "bundled_packs_dir",
    "load_pack",
    "pack_folders",
    "pack_kind",
]
