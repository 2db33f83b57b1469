"""Sentence-like word sequences for the mini_2mix corpus, from two disjoint lexicons.

The ``seen`` lexicon makes the train, dev and test texts; the ``unseen`` lexicon, which
shares no word with it (function words included), makes the ``test_unseen`` texts, so that
a model is also scored on words it never heard in training. A text is a run of short
clauses built from templates (determiner, adjective, noun, verb, preposition, adverb),
joined with "and", "then" or a sentence break, cut to a target number of words.
"""

from __future__ import annotations

import numpy as np

_SEEN = {
    "det": "the a my his her our their this that some every one",
    "adj": """big small old young happy quiet loud dark bright cold warm green red blue brown
              yellow white black heavy light tall short clean busy gentle strong sweet wild
              early late deep wide fast slow rich poor simple strange empty full soft sharp
              pretty fine real true great little round open""",
    "noun": """apple animal baby ball bank basket bear bed bell bird boat book bottle box boy
               bread bridge brother car cat chair child city class cloud coast cup daughter
               doctor dog door dream dress egg evening eye face family farm father field finger
               fire fish floor flower food forest friend fruit game garden gate girl glass gold
               grass ground group hair hand hat head heart hill home horse house island key
               king kitchen lake land letter line machine map market milk money moon morning
               mother mountain music name night ocean orange page paper park party people
               picture piece place plant pocket river road rock room school sea season ship
               shoe sister sky snow soldier song station stone story street student sugar
               summer sun table teacher tree valley village voice wall water wave weather
               wheel window winter woman wood yard""",
    "verb": """saw found took gave made kept left brought bought caught carried cleaned
               closed covered crossed drew followed held helped lost moved opened painted
               passed pulled pushed reached read remembered saved sent showed watched washed
               wanted visited liked loved needed filled built broke changed""",
    "intrans": """slept laughed waited walked smiled listened started stopped stayed arrived
                  danced jumped rested sang swam talked worked played""",
    "prep": "in on near under behind over across along through after before beside",
    "adv": "slowly quickly quietly often never always soon again today tonight",
    "join": "and then but",
}

_UNSEEN = {
    "det": "these those your its no each any",
    "adj": """ancient brave clever curious eager fancy fierce frozen golden hollow humble lazy
              lucky magic narrow noble proud purple rapid rusty silent silver sleepy smooth
              spicy tiny velvet weary wooden""",
    "noun": """anchor arrow badge barrel blanket bucket cabin candle canyon carpet castle
               cellar cottage crown desert dragon eagle engine feather fountain giant glacier
               hammer harbor helmet jacket jungle kettle ladder lantern lemon lizard meadow
               mirror needle onion palace parrot pencil pepper pillow pirate planet puppet
               rabbit ribbon rocket saddle scarf shadow shovel spider sponge statue tiger
               tomato tower trumpet tunnel turtle violin wagon whistle wizard""",
    "verb": """chased dropped fixed grabbed hid kicked lifted mended polished shook stole
               swept threw tossed traded wrapped hugged""",
    "intrans": "shouted wandered whistled yawned giggled shivered hurried sneezed",
    "prep": "beneath beyond toward inside around",
    "adv": "gladly rarely loudly barely nearly",
    "join": "so yet while",
}

LEXICONS = {name: {pos: words.split() for pos, words in table.items()}
            for name, table in (("seen", _SEEN), ("unseen", _UNSEEN))}

# Clause templates: part-of-speech slots; "det adj? noun" is a noun phrase.
_CLAUSES = (
    ("np", "verb", "np"),
    ("np", "intrans", "prep", "np"),
    ("np", "adv", "verb", "np"),
    ("np", "verb", "np", "prep", "np"),
    ("np", "intrans", "adv"),
)


def words_of(lexicon: str) -> set[str]:
    """Every word a lexicon can produce."""
    return {w for words in LEXICONS[lexicon].values() for w in words}


def _noun_phrase(rng: np.random.Generator, lex: dict[str, list[str]]) -> list[str]:
    words = [lex["det"][rng.integers(len(lex["det"]))]]
    if rng.random() < 0.5:
        words.append(lex["adj"][rng.integers(len(lex["adj"]))])
    return words + [lex["noun"][rng.integers(len(lex["noun"]))]]


def sentence(rng: np.random.Generator, lexicon: str, n_words: int) -> str:
    """Clauses from ``lexicon`` joined into about ``n_words`` words (at least two)."""
    lex = LEXICONS[lexicon]
    words: list[str] = []
    while len(words) < n_words:
        if words:
            words.append(lex["join"][rng.integers(len(lex["join"]))])
        for slot in _CLAUSES[rng.integers(len(_CLAUSES))]:
            if slot == "np":
                words += _noun_phrase(rng, lex)
            else:
                words.append(lex[slot][rng.integers(len(lex[slot]))])
    return " ".join(words[:max(2, n_words)])
