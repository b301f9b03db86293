#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace mpq {

/// A read-mostly hash table from piece text to piece id, built once when a tokenizer loads.
/// Open addressing with linear probing over a flat array, keyed by views of strings that the
/// owner keeps alive: the BPE merge loop looks a candidate pair up for every merge, and this
/// keeps those lookups to one or two cache lines.
///
/// Not thread-safe while insert() runs; find() may run concurrently.
class PieceIndex {
public:
    /// Adds `key` -> `id` (id >= 0). Returns false, and changes nothing, if `key` is present.
    /// `key` must stay valid as long as the index is used.
    bool insert(std::string_view key, int32_t id)
    {
        if ((m_size + 1) * 2 > m_slots.size())
            grow();
        return place(key, id, hash(key));
    }

    /// The id of `key`, or -1.
    int32_t find(std::string_view key) const
    {
        if (m_slots.empty())
            return -1;
        const uint64_t h = hash(key);
        const auto tag = static_cast<uint32_t>(h >> 32);
        for (size_t i = h & m_mask;; i = (i + 1) & m_mask) {
            const Slot& slot = m_slots[i];
            if (slot.id < 0)
                return -1;
            if (slot.tag == tag && slot.key == key)
                return slot.id;
        }
    }

    size_t size() const { return m_size; }

private:
    struct Slot {
        std::string_view key;
        uint32_t tag = 0; ///< upper hash bits, to skip most string compares
        int32_t id = -1;  ///< -1: empty
    };

    static uint64_t hash(std::string_view key)
    {
        // 8 bytes at a time, multiply-xorshift mixing; pieces are short.
        uint64_t h = 0x9E3779B97F4A7C15ull ^ key.size();
        size_t i = 0;
        for (; i + 8 <= key.size(); i += 8) {
            uint64_t chunk;
            std::memcpy(&chunk, key.data() + i, 8);
            h = (h ^ chunk) * 0xBF58476D1CE4E5B9ull;
            h ^= h >> 31;
        }
        uint64_t tail = 0;
        std::memcpy(&tail, key.data() + i, key.size() - i);
        h = (h ^ tail) * 0x94D049BB133111EBull;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 32;
        return h;
    }

    bool place(std::string_view key, int32_t id, uint64_t h)
    {
        const auto tag = static_cast<uint32_t>(h >> 32);
        for (size_t i = h & m_mask;; i = (i + 1) & m_mask) {
            Slot& slot = m_slots[i];
            if (slot.id < 0) {
                slot = Slot{key, tag, id};
                ++m_size;
                return true;
            }
            if (slot.tag == tag && slot.key == key)
                return false;
        }
    }

    void grow()
    {
        std::vector<Slot> old;
        old.swap(m_slots);
        m_slots.assign(old.empty() ? 64 : old.size() * 2, Slot{});
        m_mask = m_slots.size() - 1;
        m_size = 0;
        for (const Slot& slot : old)
            if (slot.id >= 0)
                place(slot.key, slot.id, hash(slot.key));
    }

    std::vector<Slot> m_slots;
    size_t m_mask = 0;
    size_t m_size = 0;
};

} // namespace mpq
