"""The words the built-in renderer knows: subjects (a few hundred nouns, plurals and synonyms) mapped to
the motif that draws them, and the words for weather, settings and sky things.

Pure data and text functions, no Pillow. :func:`lemma` folds plurals ("wolves" -> "wolf").
"""

from __future__ import annotations

import re

_SUBJECTS: dict[str, str] = {
    # four-legged animals
    "fox": "fox vixen foxy", "cat": "cat kitten kitty feline tabby moggy", "dog": (
        "dog puppy pup hound doggy doggo retriever labrador poodle corgi beagle terrier husky sheepdog "
        "dachshund spaniel shepherd bulldog collie"),
    "wolf": "wolf coyote jackal werewolf", "bear": "bear grizzly teddy cub", "panda": "panda",
    "polar bear": "polarbear", "lion": "lion lioness", "tiger": "tiger", "leopard": "leopard cheetah jaguar",
    "panther": "panther", "horse": "horse pony stallion mare foal donkey mule", "unicorn": "unicorn",
    "zebra": "zebra", "deer": "deer stag reindeer elk moose antelope fawn doe",
    "cow": "cow cattle bull ox calf buffalo bison", "sheep": "sheep lamb ram", "goat": "goat",
    "pig": "pig piglet hog boar", "rabbit": "rabbit bunny hare", "mouse": "mouse rat hamster",
    "squirrel": "squirrel chipmunk", "elephant": "elephant mammoth", "giraffe": "giraffe",
    # other creatures
    "bird": (
        "bird sparrow robin eagle hawk falcon crow raven parrot seagull gull pigeon dove hummingbird "
        "bluebird swallow finch songbird magpie kingfisher"),
    "phoenix": "phoenix firebird", "flamingo": "flamingo", "owl": "owl owlet", "penguin": "penguin",
    "duck": "duck duckling goose chicken hen rooster chick", "swan": "swan",
    "fish": "fish goldfish salmon trout clownfish koi tuna piranha", "shark": "shark",
    "whale": "whale dolphin orca", "dragon": "dragon wyvern dinosaur trex drake",
        "butterfly": "butterfly moth",
    "bee": "bee bumblebee ladybug ladybird", "snowman": "snowman", "robot": "robot android cyborg droid mech",
    # people
    "person": (
        "person people human figure someone traveller traveler hiker walker farmer student teacher doctor "
        "dancer musician surfer skier friend friends family couple stranger explorer"),
    "man": "man men guy gentleman father dad grandfather grandpa", "woman": (
        "woman women lady mother mom mum grandmother grandma"),
    "girl": "girl daughter", "boy": "boy son", "child": "child children kid kids toddler",
    "baby": "baby infant", "wizard": "wizard mage sorcerer magician", "witch": "witch sorceress",
    "knight": "knight warrior soldier paladin", "king": "king emperor prince", "queen": "queen empress",
    "princess": "princess", "pirate": "pirate captain", "chef": "chef cook baker",
    "astronaut": "astronaut spaceman cosmonaut",
    # buildings
    "house": "house home cottage cabin hut barn farmhouse chalet bungalow village shack",
    "castle": "castle palace fortress citadel kingdom", "lighthouse": "lighthouse beacon",
    "tower": "tower skyscraper office", "windmill": "windmill mill", "pyramid": "pyramid egypt sphinx",
    "bridge": "bridge viaduct aqueduct", "tent": "tent camp camping campsite campfire",
    # vehicles
    "car": "car automobile taxi cab jeep racecar convertible", "bus": "bus van truck lorry camper caravan",
    "boat": "boat sailboat yacht sailing canoe kayak raft dinghy", "ship": "ship steamer ferry liner tugboat",
    "plane": "plane airplane aeroplane jet aircraft airliner",
        "rocket": "rocket spaceship spacecraft shuttle ufo",
    "train": "train locomotive railway tram", "bicycle": "bicycle bike cycling cyclist",
    "hot air balloon": "airship zeppelin",
    # plants
    "tree": "tree oak maple elm birch willow orchard", "blossom tree": "sakura",
    "pine": "fir spruce conifer evergreen", "palm": "palm coconut", "flower": (
        "flower daisy lily lotus orchid bouquet poppy petal petals wildflower"),
    "rose": "rose roses", "tulip": "tulip", "sunflower": "sunflower", "cactus": "cactus cacti succulent",
    "mushroom": "mushroom toadstool fungus fungi", "coral": "coral reef seaweed anemone",
    # food
    "cake": "cake gateau", "cupcake": "cupcake muffin", "cup": (
        "cup mug coffee tea latte cappuccino espresso teacup cocoa"),
    "apple": "apple", "orange": "tangerine", "lemon": "lemon lime", "cherry": "cherry strawberry",
    "peach": "peach", "ice cream": "icecream gelato sundae", "pizza": "pizza",
    # objects
    "balloon": "balloon", "gift": "gift present parcel package", "heart": "heart love valentine",
    "star": "star starfish", "umbrella": "umbrella parasol", "book": "book novel library",
    "candle": "candle lantern",
}  # fmt: skip

PHRASES: dict[str, str] = {
    "polar bear": "polar bear", "hot air balloon": "hot air balloon", "ice cream": "ice cream",
    "christmas tree": "pine", "cherry blossom": "blossom tree", "teddy bear": "bear",
    "t rex": "dragon", "space ship": "rocket", "sail boat": "boat", "birthday cake": "cake",
    "pine tree": "pine", "palm tree": "palm", "apple tree": "tree", "pirate ship": "ship",
    "sailing ship": "ship", "race car": "car", "fire truck": "bus", "space shuttle": "rocket",
}  # fmt: skip
"""Two or three words that name one subject, read before single words."""

SUBJECT_WORDS: dict[str, str] = {word: name for name, words in _SUBJECTS.items() for word in words.split()}
"""Every known subject word (singular) -> the subject's name (a key of the motif registry)."""

WEATHER_WORDS: dict[str, str] = {
    "rain": "rain", "rainy": "rain", "raining": "rain", "rainfall": "rain", "drizzle": "rain",
    "shower": "rain", "showers": "rain", "downpour": "rain",
    "storm": "storm", "stormy": "storm", "tempest": "storm", "hurricane": "storm", "thunder": "storm",
    "thunderstorm": "storm", "lightning": "storm", "typhoon": "storm",
    "snow": "snow", "snowy": "snow", "snowing": "snow", "snowfall": "snow", "snowflake": "snow",
    "blizzard": "snow", "winter": "snow", "wintry": "snow", "frost": "snow",
    "fog": "fog", "foggy": "fog", "mist": "fog", "misty": "fog", "haze": "fog", "hazy": "fog",
}  # fmt: skip
SKY_WORDS: dict[str, str] = {
    "sun": "sun", "sunshine": "sun", "sunny": "sun", "moon": "moon", "moonlight": "moon",
    "crescent": "moon", "rainbow": "rainbow", "cloud": "clouds", "clouds": "clouds", "cloudy": "clouds",
    "stars": "stars", "starry": "stars", "starlight": "stars",
}  # fmt: skip
SETTING_WORDS: dict[str, str] = {
    "underwater": "underwater", "undersea": "underwater", "aquarium": "underwater", "seabed": "underwater",
    "space": "space", "galaxy": "space", "cosmos": "space", "cosmic": "space", "nebula": "space",
    "planet": "space", "universe": "space", "orbit": "space",
    "table": "table", "kitchen": "table", "cafe": "table", "picnic": "table", "breakfast": "table",
    "birthday": "festive", "party": "festive", "celebration": "festive", "festive": "festive",
    "anniversary": "festive", "confetti": "festive", "bunting": "festive", "fiesta": "festive",
}  # fmt: skip
STYLE_WORDS: dict[str, str] = {
    "watercolor": "watercolor", "watercolour": "watercolor", "aquarelle": "watercolor",
        "gouache": "watercolor",
    "neon": "neon", "cyberpunk": "neon", "synthwave": "neon", "vaporwave": "neon", "retrowave": "neon",
    "pixel": "pixel", "pixelart": "pixel", "pixelated": "pixel", "bit": "pixel", "retro": "pixel",
    "sketch": "sketch", "sketched": "sketch", "pencil": "sketch", "drawing": "sketch", "charcoal": "sketch",
    "ink": "sketch", "lineart": "sketch",
    "oil": "oil", "impasto": "oil", "impressionist": "oil", "canvas": "oil", "painterly": "oil",
    "lowpoly": "lowpoly", "polygonal": "lowpoly", "geometric": "lowpoly", "faceted": "lowpoly",
}  # fmt: skip
COUNT_WORDS = {"two": 2, "pair": 2, "couple": 2, "three": 3, "several": 3, "many": 3, "some": 2, "few": 3}
_IRREGULAR = {
    "wolves": "wolf", "mice": "mouse", "geese": "goose", "people": "people", "children": "children",
    "men": "men", "women": "women", "leaves": "leaf", "knives": "knife", "fish": "fish", "sheep": "sheep",
    "deer": "deer", "cacti": "cacti", "fungi": "fungi", "elves": "elf", "loaves": "loaf", "calves": "calf",
    "wives": "wife", "halves": "half", "scarves": "scarf", "ponies": "pony", "puppies": "puppy",
    "bunnies": "bunny", "butterflies": "butterfly", "cherries": "cherry", "strawberries": "strawberry",
    "ladies": "lady", "babies": "baby", "puppies'": "puppy", "daisies": "daisy", "lilies": "lily",
    "skies": "sky", "bodies": "body", "berries": "berry", "parties": "party", "cities": "city",
    "cookies": "cookie", "buses": "bus", "foxes": "fox", "boxes": "box", "peaches": "peach",
    "witches": "witch", "benches": "bench", "beaches": "beach", "torches": "torch", "princesses": "princess",
    "octopuses": "octopus", "cactuses": "cactus", "glasses": "glasses", "species": "species",
    "series": "series", "dress": "dress", "moss": "moss", "grass": "grass", "compass": "compass",
    "chess": "chess", "this": "this", "his": "his", "is": "is", "was": "was", "bus": "bus", "its": "its",
    "canvas": "canvas", "cosmos": "cosmos", "hibiscus": "hibiscus", "octopus": "octopus",
}  # fmt: skip


def words(text: str | None) -> list[str]:
    """Lower-case words of ``text``, in order (apostrophes and digits dropped, like the palette's)."""
    return re.findall(r"[a-z]+", (text or "").lower())


def lemma(word: str) -> str:
    """The singular of a (lower-case) noun, as far as simple English rules go."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def is_plural(word: str) -> bool:
    return lemma(word) != word and word not in ("glasses", "people", "children", "men", "women")


def subjects_in(text: str) -> list[tuple[int, str, bool]]:
    """The subjects named in ``text``: (word index, subject name, plural?), in order; a two-word phrase
    ("polar bear", "hot air balloon") counts once, at its first word."""
    said = words(text)
    found: list[tuple[int, str, bool]] = []
    taken: set[int] = set()
    for phrase, name in PHRASES.items():
        parts = phrase.split()
        for i in range(len(said) - len(parts) + 1):
            window = said[i : i + len(parts)]
            if [lemma(w) for w in window] == parts and not taken & set(range(i, i + len(parts))):
                found.append((i, name, is_plural(window[-1])))
                taken |= set(range(i, i + len(parts)))
    for i, word in enumerate(said):
        if i in taken:
            continue
        base = lemma(word)
        subject = SUBJECT_WORDS.get(word, SUBJECT_WORDS.get(base))
        if subject is not None and word not in ("stars", "starry"):
            group = word in ("people", "friends", "family", "couple", "children", "kids", "men", "women")
            found.append((i, subject, is_plural(word) or group))
    return sorted(found)
