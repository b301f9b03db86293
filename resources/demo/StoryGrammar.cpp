#include "StoryGrammar.h"

#include <vector>

namespace mpq::demo {

namespace {

/// xorshift64*: the same sequence on every compiler and library (std distributions are not).
class Rng {
public:
    explicit Rng(uint64_t seed) : m_state(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {}
    uint64_t next()
    {
        m_state ^= m_state >> 12;
        m_state ^= m_state << 25;
        m_state ^= m_state >> 27;
        return m_state * 0x2545F4914F6CDD1Dull;
    }
    size_t below(size_t n) { return size_t((next() >> 11) % n); }
    bool chance(int percent) { return int(below(100)) < percent; }
    template <class T> const T& pick(const std::vector<T>& v) { return v[below(v.size())]; }

private:
    uint64_t m_state;
};

struct Hero {
    std::string name, kind, he, his, him;
};

const std::vector<Hero> kHeroes = {
    {"Lily", "girl", "she", "her", "her"},  {"Tom", "boy", "he", "his", "him"},
    {"Mia", "girl", "she", "her", "her"},   {"Ben", "boy", "he", "his", "him"},
    {"Anna", "girl", "she", "her", "her"},  {"Sam", "boy", "he", "his", "him"},
    {"Zoe", "girl", "she", "her", "her"},   {"Max", "boy", "he", "his", "him"},
    {"Ella", "girl", "she", "her", "her"},  {"Leo", "boy", "he", "his", "him"},
};
const std::vector<std::string> kAnimals = {"cat", "dog", "bird", "fox", "rabbit", "frog", "duck", "bear", "mouse", "owl"};
const std::vector<std::string> kPlaces = {"park", "garden", "forest", "river", "beach", "hill", "farm", "lake"};
const std::vector<std::string> kThings = {"ball", "kite", "hat", "box", "book", "boat", "drum", "cup", "key", "shoe"};
const std::vector<std::string> kColours = {"red", "blue", "green", "yellow", "big", "little", "shiny", "soft", "old", "new"};
const std::vector<std::string> kSpots = {"tree", "rock", "bench", "bush", "bridge", "fence", "table", "bed"};
const std::vector<std::string> kFeelings = {"sad", "scared", "lonely", "tired", "hungry", "cold"};
const std::vector<std::string> kGlad = {"happy", "glad", "proud", "excited"};
const std::vector<std::string> kDays = {"sunny", "rainy", "windy", "cold", "warm", "quiet"};
const std::vector<std::string> kFoods = {"apples", "cookies", "bread", "carrots", "berries", "cake"};
const std::vector<std::string> kGames = {"hide and seek", "tag", "catch", "a running game", "a jumping game"};

std::string cap(std::string s)
{
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z')
        s[0] = char(s[0] - 'a' + 'A');
    return s;
}

std::string article(const std::string& word)
{
    return std::string("aeiou").find(word[0]) != std::string::npos ? "an " + word : "a " + word;
}

std::string story(Rng& r)
{
    const Hero& h = r.pick(kHeroes);
    const std::string animal = r.pick(kAnimals);
    const std::string place = r.pick(kPlaces);
    const std::string thing = r.pick(kThings);
    const std::string colour = r.pick(kColours);
    const std::string lost = r.pick(kThings);
    const std::string spot = r.pick(kSpots);
    const std::string spot2 = r.pick(kSpots);
    const std::string feeling = r.pick(kFeelings);
    const std::string glad = r.pick(kGlad);
    const std::string food = r.pick(kFoods);
    std::string s;
    auto say = [&](const std::string& sentence) {
        if (!s.empty())
            s += ' ';
        s += sentence;
    };

    switch (r.below(4)) {
    case 0: say("Once upon a time, there was a little " + h.kind + " named " + h.name + "."); break;
    case 1: say("One " + r.pick(kDays) + " day, " + h.name + " went to the " + place + "."); break;
    case 2: say(h.name + " was a kind " + h.kind + " who loved to play outside."); break;
    default: say("There once was " + article(h.kind) + " called " + h.name + " who lived near the " + place + "."); break;
    }
    if (r.chance(70))
        say(cap(h.he) + " had " + article(colour) + " " + thing + " and " + h.he + " took it everywhere.");
    if (r.chance(50))
        say("Every day, " + h.name + " played with " + h.his + " " + thing + " in the " + place + ".");

    const int plot = int(r.below(3));
    if (plot == 0) { // something lost
        say("One day, " + h.name + " saw " + article(animal) + " under " + article(spot) + ".");
        say("The " + animal + " looked very " + feeling + ".");
        say(h.name + " asked, \"Why are you " + feeling + ", little " + animal + "?\"");
        say("The " + animal + " said, \"I lost my " + lost + ". Can you help me find it?\"");
        say(h.name + " said, \"Yes, I will help you!\"");
        say("They looked behind the " + spot2 + " and near the " + r.pick(kSpots) + ".");
        if (r.chance(50))
            say("They looked for a long time, but they could not find it.");
        say("At last, " + h.name + " found the " + lost + " in the " + r.pick(kPlaces) + ".");
        say("The " + animal + " was so " + glad + ". \"Thank you, " + h.name + "!\" it said.");
    } else if (plot == 1) { // sharing
        say(h.name + " had some " + food + " for lunch.");
        say(cap(article(animal)) + " came and looked at the " + food + ".");
        say("The " + animal + " was " + (feeling == "hungry" ? std::string("very hungry") : "hungry") + ".");
        say(h.name + " wanted to eat all the " + food + ", but then " + h.he + " had an idea.");
        say(cap(h.he) + " gave some " + food + " to the " + animal + ".");
        say("The " + animal + " ate the " + food + " and smiled.");
        say("Then they played " + r.pick(kGames) + " until the sun went down.");
        say("Sharing made " + h.name + " feel " + glad + ".");
    } else { // a problem with the thing
        say("One day, the wind took " + h.his + " " + thing + " up into " + article(spot) + ".");
        say(h.name + " was " + feeling + ". " + cap(h.he) + " could not reach it.");
        say(cap(article(animal)) + " saw " + h.him + " and said, \"Do not be " + feeling + ". I can help.\"");
        say("The " + animal + " climbed up and pushed the " + thing + " down.");
        say(h.name + " caught the " + thing + " and laughed.");
        say("\"You are a good friend,\" " + h.name + " said to the " + animal + ".");
    }
    switch (r.below(4)) {
    case 0: say("From that day on, " + h.name + " and the " + animal + " were best friends."); break;
    case 1: say(h.name + " went home and told " + h.his + " mom all about the " + animal + "."); break;
    case 2: say("That night, " + h.name + " went to bed with a big smile."); break;
    default: say("It was the best day ever."); break;
    }
    return s;
}

} // namespace

std::string generateStories(uint64_t seed, int stories)
{
    Rng r(seed);
    std::string text;
    for (int i = 0; i < stories; ++i) {
        if (i)
            text += "\n\n";
        text += story(r);
    }
    text += "\n";
    return text;
}

} // namespace mpq::demo
