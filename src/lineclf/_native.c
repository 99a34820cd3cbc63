/* lineclf._native: the loops of labelling that numpy cannot vectorise.
 *
 * - hash_lines: each line's words found (runs of two or more word characters,
 *   as the regular-expression engine's \w has them), and its word 1- and
 *   2-grams hashed into columns, summed and l2-normalised, as scikit-learn's
 *   HashingVectorizer(ngram_range=(1, 2), alternate_sign=False, norm="l2")
 *   gives them (MurmurHash3_x86_32 of the UTF-8 n-gram, seed 0; column
 *   abs(h) % n_features);
 * - word_bits: the words of a text that a dict maps to bits (stopword lists,
 *   cue lists), with their lines;
 * - match_phrases: the cue lists' phrases found in a text, as the regular
 *   expression of their trie finds them (case-insensitively, whole words);
 * - line_hashes: a 64-bit hash of each line (MurmurHash3_x64_128's first
 *   half), to count the lines that recur on the pages of a site;
 * - csr_dot: a CSR matrix times a dense matrix, summed in scipy's order;
 * - expit: the logistic function in place, as scipy.special.expit computes it
 *   (1 / (1 + exp(-x)) with the C library's exp, which numpy's own exp is not);
 * - walk_trees: gradient-boosted trees walked as HistGradientBoosting's own
 *   predictor walks them on raw float64 values (NaN goes where the node says);
 * - score_trees: the same sums found by QuickScorer, for trees of at most 64
 *   leaves (the recipe's have 31): about twice as fast;
 * - line_counts: each line's character statistics (classes, words, sentence
 *   ends, first and last visible character) in one pass over a batch's code
 *   points, for the page features.
 *
 * Arrays come in through the buffer protocol, so the module needs neither
 * numpy's headers nor scipy's to build. Each function checks the sizes of
 * what it is given, and every index it will follow, before its loop runs:
 * a bad array raises ValueError or TypeError, it never reads out of bounds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ MurmurHash3 */

static inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

/* Austin Appleby's MurmurHash3_x86_32 (public domain), as scikit-learn ships it:
 * blocks are read in the machine's byte order. */
static int32_t murmurhash3_32(const unsigned char *data, Py_ssize_t len, uint32_t seed)
{
    const Py_ssize_t nblocks = len / 4;
    const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    uint32_t h1 = seed, k1;
    for (Py_ssize_t i = 0; i < nblocks; i++) {
        memcpy(&k1, data + 4 * i, 4);
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl32(h1, 13);
        h1 = h1 * 5 + 0xe6546b64;
    }
    const unsigned char *tail = data + nblocks * 4;
    k1 = 0;
    switch (len & 3) {
    case 3:
        k1 ^= (uint32_t)tail[2] << 16; /* fall through */
    case 2:
        k1 ^= (uint32_t)tail[1] << 8; /* fall through */
    case 1:
        k1 ^= tail[0];
        k1 *= c1;
        k1 = rotl32(k1, 15);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= (uint32_t)len;
    h1 ^= h1 >> 16;
    h1 *= 0x85ebca6b;
    h1 ^= h1 >> 13;
    h1 *= 0xc2b2ae35;
    h1 ^= h1 >> 16;
    return (int32_t)h1;
}

static int32_t column_of(int32_t h, int32_t n_features)
{
    if (h == INT32_MIN) /* abs() has no int32 answer: scikit-learn's special case */
        return (int32_t)((2147483647 - (int64_t)(n_features - 1)) % n_features);
    return (h < 0 ? -h : h) % n_features;
}

/* ------------------------------------------------------------------ growable arrays */

typedef struct {
    char *data;
    Py_ssize_t size, capacity, itemsize;
} Growable;

static int grow(Growable *g, Py_ssize_t need)
{
    if (g->size + need <= g->capacity)
        return 0;
    Py_ssize_t capacity = g->capacity ? g->capacity : 1024;
    while (capacity < g->size + need)
        capacity *= 2;
    char *data = PyMem_Realloc(g->data, capacity * g->itemsize);
    if (!data) {
        PyErr_NoMemory();
        return -1;
    }
    g->data = data;
    g->capacity = capacity;
    return 0;
}

static void free_growables(Growable *const arrays[], int n)
{
    for (int i = 0; i < n; i++)
        PyMem_Free(arrays[i]->data);
}

/* A tuple of ``head`` (when not NULL; the reference is taken over) and a
 * bytearray of each array's items; NULL with the error set. */
static PyObject *bytearrays(PyObject *head, Growable *const arrays[], int n)
{
    PyObject *out = PyTuple_New(n + (head != NULL));
    if (!out) {
        Py_XDECREF(head);
        return NULL;
    }
    int k = 0;
    if (head)
        PyTuple_SET_ITEM(out, k++, head);
    for (int i = 0; i < n; i++) {
        PyObject *array = PyByteArray_FromStringAndSize(arrays[i]->data, arrays[i]->size * arrays[i]->itemsize);
        if (!array) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, k++, array);
    }
    return out;
}

static int compare_int32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* ------------------------------------------------------------------ words */

/* A word character as the regular-expression engine's \w has it for str
 * patterns; ASCII, most of any text, from a test of ranges rather than the
 * Unicode database. */
static inline int is_word_char(Py_UCS4 ch)
{
    if (ch < 128)
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
    return Py_UNICODE_ISALNUM(ch);
}

/* The UTF-8 bytes of ch into out: their count. A surrogate (never a word
 * character) is written as any other code point, as 'surrogatepass' writes it. */
static inline Py_ssize_t put_utf8(unsigned char *out, Py_UCS4 ch)
{
    if (ch < 0x80) {
        out[0] = (unsigned char)ch;
        return 1;
    }
    if (ch < 0x800) {
        out[0] = (unsigned char)(0xC0 | (ch >> 6));
        out[1] = (unsigned char)(0x80 | (ch & 0x3F));
        return 2;
    }
    if (ch < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (ch >> 12));
        out[1] = (unsigned char)(0x80 | ((ch >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (ch & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (ch >> 18));
    out[1] = (unsigned char)(0x80 | ((ch >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((ch >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (ch & 0x3F));
    return 4;
}

/* A new bytearray of n items of this size, and where they are (data). */
static PyObject *new_bytearray(Py_ssize_t n, Py_ssize_t itemsize, void **data)
{
    PyObject *array = PyByteArray_FromStringAndSize(NULL, n * itemsize);
    if (array)
        *data = PyByteArray_AS_STRING(array);
    return array;
}

/* A str's characters as PyUnicode_READ reads them. */
typedef struct {
    int kind;
    const void *chars;
    Py_ssize_t length;
} StrView;

/* Item i of a PySequence_Fast of lines as a StrView: 0, or -1 with a
 * TypeError when it is not a str. */
static int str_item(PyObject *seq, Py_ssize_t i, StrView *view)
{
    PyObject *line = PySequence_Fast_GET_ITEM(seq, i);
    if (!PyUnicode_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "lines must be str");
        return -1;
    }
    *view = (StrView){PyUnicode_KIND(line), PyUnicode_DATA(line), PyUnicode_GET_LENGTH(line)};
    return 0;
}

/* ------------------------------------------------------------------ hash_lines */

PyDoc_STRVAR(hash_lines_doc,
"hash_lines(lines, n_features) -> (indptr, indices, data)\n\n"
"Each line's words (its runs of two or more word characters, \\w\\w+: what\n"
"HashingVectorizer's token_pattern finds) and each pair of neighbouring words,\n"
"hashed into n_features columns, counted and l2-normalised, as CSR arrays in\n"
"bytearrays (int64 indptr, int32 indices sorted within each row, float64\n"
"data). lines: a sequence of str, already lower-cased.");

static PyObject *hash_lines(PyObject *self, PyObject *args)
{
    PyObject *lines;
    Py_ssize_t n_features;
    if (!PyArg_ParseTuple(args, "On", &lines, &n_features))
        return NULL;
    if (n_features < 1 || n_features > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "n_features must be between 1 and 2**31 - 1");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(lines, "lines must be a sequence of str");
    if (!seq)
        return NULL;
    Py_ssize_t n_lines = PySequence_Fast_GET_SIZE(seq);
    Growable columns = {NULL, 0, 0, sizeof(int32_t)}, values = {NULL, 0, 0, sizeof(double)};
    Growable row = {NULL, 0, 0, sizeof(int32_t)}, pair = {NULL, 0, 0, 1};
    /* one line's words: their UTF-8 bytes one after another, and where each ends */
    Growable bytes = {NULL, 0, 0, 1}, ends = {NULL, 0, 0, sizeof(Py_ssize_t)};
    Growable *const scratch[] = {&columns, &values, &row, &pair, &bytes, &ends};
    PyObject *result = NULL;
    int64_t *starts;
    PyObject *indptr = new_bytearray(n_lines + 1, sizeof(int64_t), (void **)&starts);
    if (!indptr)
        goto fail;
    starts[0] = 0;
    for (Py_ssize_t i = 0; i < n_lines; i++) {
        StrView line;
        if (str_item(seq, i, &line) < 0)
            goto fail;
        const int kind = line.kind;
        const void *chars = line.chars;
        const Py_ssize_t length = line.length;
        bytes.size = 0;
        ends.size = 0;
        for (Py_ssize_t c = 0; c < length;) {
            if (!is_word_char(PyUnicode_READ(kind, chars, c))) {
                c++;
                continue;
            }
            Py_ssize_t stop = c + 1;
            while (stop < length && is_word_char(PyUnicode_READ(kind, chars, stop)))
                stop++;
            if (stop - c >= 2) {
                if (grow(&bytes, 4 * (stop - c)) < 0 || grow(&ends, 1) < 0)
                    goto fail;
                for (; c < stop; c++)
                    bytes.size += put_utf8((unsigned char *)bytes.data + bytes.size, PyUnicode_READ(kind, chars, c));
                ((Py_ssize_t *)ends.data)[ends.size++] = bytes.size;
            }
            c = stop;
        }
        const Py_ssize_t n_words = ends.size;
        const Py_ssize_t *word_end = (const Py_ssize_t *)ends.data;
        row.size = 0;
        if (grow(&row, n_words > 0 ? 2 * n_words - 1 : 0) < 0)
            goto fail;
        int32_t *cols = (int32_t *)row.data;
        for (Py_ssize_t w = 0; w < n_words; w++) {
            const Py_ssize_t begin = w > 0 ? word_end[w - 1] : 0, len = word_end[w] - begin;
            const char *utf8 = bytes.data + begin;
            cols[row.size++] = column_of(murmurhash3_32((const unsigned char *)utf8, len, 0), (int32_t)n_features);
            if (w > 0) {
                const Py_ssize_t previous_begin = w > 1 ? word_end[w - 2] : 0, previous_len = begin - previous_begin;
                pair.size = 0;
                if (grow(&pair, previous_len + 1 + len) < 0)
                    goto fail;
                memcpy(pair.data, bytes.data + previous_begin, previous_len);
                pair.data[previous_len] = ' ';
                memcpy(pair.data + previous_len + 1, utf8, len);
                /* the pairs follow the words, as the vectorizer lists them */
                cols[n_words + w - 1] = column_of(
                    murmurhash3_32((const unsigned char *)pair.data, previous_len + 1 + len, 0), (int32_t)n_features);
            }
        }
        Py_ssize_t n_grams = n_words > 0 ? 2 * n_words - 1 : 0;
        qsort(cols, n_grams, sizeof(int32_t), compare_int32);
        if (grow(&columns, n_grams) < 0 || grow(&values, n_grams) < 0)
            goto fail;
        int32_t *out_cols = (int32_t *)columns.data + columns.size;
        double *out_vals = (double *)values.data + values.size;
        Py_ssize_t n_unique = 0;
        for (Py_ssize_t j = 0; j < n_grams; j++) {
            if (n_unique && out_cols[n_unique - 1] == cols[j]) {
                out_vals[n_unique - 1] += 1.0;
            } else {
                out_cols[n_unique] = cols[j];
                out_vals[n_unique++] = 1.0;
            }
        }
        /* scikit-learn's inplace_csr_row_normalize_l2, step for step */
        double sum = 0.0;
        for (Py_ssize_t j = 0; j < n_unique; j++)
            sum += out_vals[j] * out_vals[j];
        if (sum != 0.0) {
            sum = sqrt(sum);
            for (Py_ssize_t j = 0; j < n_unique; j++)
                out_vals[j] /= sum;
        }
        columns.size += n_unique;
        values.size += n_unique;
        starts[i + 1] = columns.size;
    }
    result = bytearrays(indptr, scratch, 2); /* indptr, indices, data */
    indptr = NULL;
fail:
    free_growables(scratch, 6);
    Py_XDECREF(indptr);
    Py_DECREF(seq);
    return result;
}

/* ------------------------------------------------------------------ word_bits */

static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, int writable, const char *name);
static Py_ssize_t items(const Py_buffer *view);
static int check_offsets(const int64_t *offsets, Py_ssize_t n, Py_ssize_t total, const char *what);

PyDoc_STRVAR(word_bits_doc,
"word_bits(text, keys, key_starts, key_bits, longest) -> (lines, bits)\n\n"
"The words of text (its runs of word characters, \\w+) that are keys of the\n"
"table, in order: each one's line (lines are separated by '\\n'; int64) and\n"
"its key's bits (uint16), as bytearrays. Key k is the code points\n"
"keys[key_starts[k]:key_starts[k + 1]] (uint32; int64 offsets) with the bits\n"
"key_bits[k] (uint16; 0: none). No key is longer than longest characters,\n"
"so longer words are not looked up; keys are looked up in a hash table\n"
"built for the call, with no Python object per word.");

/* FNV-1a, 64 bits, over a word's code points. */
static inline uint64_t word_hash(const uint32_t *word, Py_ssize_t length)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (Py_ssize_t i = 0; i < length; i++) {
        h ^= word[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

typedef struct {
    const uint32_t *key; /* NULL: an empty slot */
    Py_ssize_t length;
    uint64_t hash;
    uint16_t bits;
} WordSlot;

/* The slot of the word, or the empty slot where it would go (open addressing, linear probing). */
static inline WordSlot *word_slot(WordSlot *slots, uint64_t mask, const uint32_t *word, Py_ssize_t length, uint64_t h)
{
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
        WordSlot *slot = slots + i;
        if (!slot->key || (slot->hash == h && slot->length == length
                           && memcmp(slot->key, word, (size_t)length * sizeof(uint32_t)) == 0))
            return slot;
    }
}

static PyObject *word_bits(PyObject *self, PyObject *args)
{
    PyObject *text, *o_keys, *o_starts, *o_bits;
    Py_ssize_t longest;
    if (!PyArg_ParseTuple(args, "UOOOn", &text, &o_keys, &o_starts, &o_bits, &longest))
        return NULL;
    Py_buffer keys, starts, key_bits;
    if (get_buffer(o_keys, &keys, 4, 0, "keys") < 0)
        return NULL;
    if (get_buffer(o_starts, &starts, 8, 0, "key_starts") < 0) {
        PyBuffer_Release(&keys);
        return NULL;
    }
    if (get_buffer(o_bits, &key_bits, 2, 0, "key_bits") < 0) {
        PyBuffer_Release(&keys);
        PyBuffer_Release(&starts);
        return NULL;
    }
    Growable lines = {NULL, 0, 0, sizeof(int64_t)}, bits = {NULL, 0, 0, sizeof(uint16_t)};
    Growable *const found_words[] = {&lines, &bits};
    PyObject *result = NULL;
    WordSlot *slots = NULL;
    uint32_t *word = NULL;
    const Py_ssize_t n_keys = items(&key_bits);
    const int64_t *start = starts.buf;
    const uint32_t *key_chars = keys.buf;
    const uint16_t *key_value = key_bits.buf;
    if (longest < 0 || items(&starts) != n_keys + 1) {
        PyErr_SetString(PyExc_ValueError, "word_bits: arrays of inconsistent shapes");
        goto fail;
    }
    if (check_offsets(start, n_keys, items(&keys), "word_bits: key") < 0)
        goto fail;
    uint64_t size = 16;
    while (size < 2 * (uint64_t)n_keys)
        size *= 2;
    slots = PyMem_Calloc(size, sizeof(WordSlot));
    word = PyMem_Malloc((longest > 0 ? longest : 1) * sizeof(uint32_t));
    if (!slots || !word) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t k = 0; k < n_keys; k++) {
        const Py_ssize_t length = start[k + 1] - start[k];
        if (length > longest) {
            PyErr_SetString(PyExc_ValueError, "word_bits: a key longer than longest");
            goto fail;
        }
        const uint32_t *key = key_chars + start[k];
        const uint64_t h = word_hash(key, length);
        WordSlot *slot = word_slot(slots, size - 1, key, length, h);
        /* a key given twice keeps its first bits */
        if (!slot->key)
            *slot = (WordSlot){key, length, h, key_value[k]};
    }
    const int kind = PyUnicode_KIND(text);
    const void *chars = PyUnicode_DATA(text);
    const Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int64_t line = 0;
    for (Py_ssize_t c = 0; c < length;) {
        const Py_UCS4 ch = PyUnicode_READ(kind, chars, c);
        if (!is_word_char(ch)) {
            line += ch == '\n';
            c++;
            continue;
        }
        Py_ssize_t stop = c;
        while (stop < length) {
            const Py_UCS4 next = PyUnicode_READ(kind, chars, stop);
            if (!is_word_char(next))
                break;
            if (stop - c < longest)
                word[stop - c] = next;
            stop++;
        }
        if (stop - c <= longest) {
            const WordSlot *slot = word_slot(slots, size - 1, word, stop - c, word_hash(word, stop - c));
            if (slot->key && slot->bits) {
                if (grow(&lines, 1) < 0 || grow(&bits, 1) < 0)
                    goto fail;
                ((int64_t *)lines.data)[lines.size++] = line;
                ((uint16_t *)bits.data)[bits.size++] = slot->bits;
            }
        }
        c = stop;
    }
    result = bytearrays(NULL, found_words, 2);
fail:
    free_growables(found_words, 2);
    PyMem_Free(slots);
    PyMem_Free(word);
    PyBuffer_Release(&keys);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&key_bits);
    return result;
}

/* ------------------------------------------------------------------ line_hashes */

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/* The first 64 bits of Austin Appleby's MurmurHash3_x64_128 (public domain),
 * seed 0; blocks are read in the machine's byte order. */
static uint64_t murmurhash3_64(const unsigned char *data, Py_ssize_t len)
{
    const Py_ssize_t nblocks = len / 16;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t h1 = 0, h2 = 0, k1, k2;
    for (Py_ssize_t i = 0; i < nblocks; i++) {
        memcpy(&k1, data + 16 * i, 8);
        memcpy(&k2, data + 16 * i + 8, 8);
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
        h1 = rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
        h2 = rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
    }
    const unsigned char *tail = data + nblocks * 16;
    k1 = 0;
    k2 = 0;
    const int rest = (int)(len & 15);
    for (int i = rest - 1; i >= 8; i--)
        k2 ^= (uint64_t)tail[i] << (8 * (i - 8));
    if (rest > 8) {
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
    }
    for (int i = (rest < 8 ? rest : 8) - 1; i >= 0; i--)
        k1 ^= (uint64_t)tail[i] << (8 * i);
    if (rest > 0) {
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
    }
    h1 ^= (uint64_t)len;
    h2 ^= (uint64_t)len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    return h1;
}

PyDoc_STRVAR(line_hashes_doc,
"line_hashes(prefix, lines) -> bytearray\n\n"
"A 64-bit hash of each line (str) without its surrounding whitespace (as\n"
"str.strip() has it), after the bytes prefix: MurmurHash3_x64_128's first 64\n"
"bits of prefix + the line's UTF-8 (surrogates encoded as themselves, as\n"
"'surrogatepass' does). The hashes are uint64, in the lines' order.");

static PyObject *line_hashes(PyObject *self, PyObject *args)
{
    Py_buffer prefix;
    PyObject *lines;
    if (!PyArg_ParseTuple(args, "y*O", &prefix, &lines))
        return NULL;
    PyObject *seq = PySequence_Fast(lines, "lines must be a sequence of str");
    if (!seq) {
        PyBuffer_Release(&prefix);
        return NULL;
    }
    const Py_ssize_t n_lines = PySequence_Fast_GET_SIZE(seq);
    Growable bytes = {NULL, 0, 0, 1};
    uint64_t *hashes;
    PyObject *out = new_bytearray(n_lines, sizeof(uint64_t), (void **)&hashes);
    if (!out)
        goto fail;
    for (Py_ssize_t i = 0; i < n_lines; i++) {
        StrView line;
        if (str_item(seq, i, &line) < 0)
            goto fail;
        Py_ssize_t begin = 0, end = line.length;
        while (begin < end && Py_UNICODE_ISSPACE(PyUnicode_READ(line.kind, line.chars, begin)))
            begin++;
        while (end > begin && Py_UNICODE_ISSPACE(PyUnicode_READ(line.kind, line.chars, end - 1)))
            end--;
        bytes.size = 0;
        if (grow(&bytes, prefix.len + 4 * (end - begin)) < 0)
            goto fail;
        memcpy(bytes.data, prefix.buf, prefix.len);
        bytes.size = prefix.len;
        for (Py_ssize_t c = begin; c < end; c++)
            bytes.size += put_utf8((unsigned char *)bytes.data + bytes.size, PyUnicode_READ(line.kind, line.chars, c));
        hashes[i] = murmurhash3_64((const unsigned char *)bytes.data, bytes.size);
    }
    PyMem_Free(bytes.data);
    Py_DECREF(seq);
    PyBuffer_Release(&prefix);
    return out;
fail:
    PyMem_Free(bytes.data);
    Py_XDECREF(out);
    Py_DECREF(seq);
    PyBuffer_Release(&prefix);
    return NULL;
}

/* ------------------------------------------------------------------ buffers */

/* A C-contiguous buffer of items of this size; writable when asked. */
static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, int writable, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0)
        return -1;
    if (view->itemsize != itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: expected items of %zd bytes, got %zd", name, itemsize, view->itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static Py_ssize_t items(const Py_buffer *view) { return view->len / view->itemsize; }

static void release_buffers(Py_buffer *const views[], int n)
{
    for (int i = 0; i < n; i++)
        PyBuffer_Release(views[i]);
}

/* Each object's buffer (get_buffer), the last one writable: 0, or -1 with
 * none held. */
static int get_buffers(PyObject *const objects[], Py_buffer *const views[], const Py_ssize_t sizes[],
                       const char *const names[], int n)
{
    for (int i = 0; i < n; i++) {
        if (get_buffer(objects[i], views[i], sizes[i], i == n - 1, names[i]) < 0) {
            release_buffers(views, i);
            return -1;
        }
    }
    return 0;
}

/* Whether n + 1 offsets run from 0 to total without going back; a
 * ValueError naming ``what`` when not. */
static int check_offsets(const int64_t *offsets, Py_ssize_t n, Py_ssize_t total, const char *what)
{
    if (offsets[0] != 0 || offsets[n] != total) {
        PyErr_Format(PyExc_ValueError, "%s offsets out of range", what);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (offsets[i + 1] < offsets[i]) {
            PyErr_Format(PyExc_ValueError, "%s offsets out of order", what);
            return -1;
        }
    }
    return 0;
}

/* The arguments of walk_trees: X, n_features, seven arrays
 * of the trees, out, k; the nine buffers into views (as get_buffers): 0, or
 * -1 with none held. */
static int tree_args(PyObject *args, Py_buffer *const views[9], const Py_ssize_t sizes[9], const char *const names[9],
                     Py_ssize_t *n_features, Py_ssize_t *k)
{
    PyObject *o[9];
    if (!PyArg_ParseTuple(args, "OnOOOOOOOOn", &o[0], n_features, &o[1], &o[2], &o[3], &o[4], &o[5], &o[6], &o[7],
                          &o[8], k))
        return -1;
    return get_buffers(o, views, sizes, names, 9);
}

/* ------------------------------------------------------------------ csr_dot */

PyDoc_STRVAR(csr_dot_doc,
"csr_dot(indptr, indices, data, weights, out)\n\n"
"out += the CSR matrix (int64 indptr, int32 indices, float64 data) times the\n"
"C-ordered float64 matrix weights (n_columns x k); out is C-ordered (n_rows x k).");

static PyObject *csr_dot(PyObject *self, PyObject *args)
{
    PyObject *o_indptr, *o_indices, *o_data, *o_weights, *o_out;
    Py_ssize_t n_columns, k;
    if (!PyArg_ParseTuple(args, "OOOOOnn", &o_indptr, &o_indices, &o_data, &o_weights, &o_out, &n_columns, &k))
        return NULL;
    Py_buffer indptr, indices, data, weights, out;
    if (get_buffer(o_indptr, &indptr, 8, 0, "indptr") < 0)
        return NULL;
    if (get_buffer(o_indices, &indices, 4, 0, "indices") < 0)
        goto fail1;
    if (get_buffer(o_data, &data, 8, 0, "data") < 0)
        goto fail2;
    if (get_buffer(o_weights, &weights, 8, 0, "weights") < 0)
        goto fail3;
    if (get_buffer(o_out, &out, 8, 1, "out") < 0)
        goto fail4;
    Py_ssize_t n_rows = items(&indptr) - 1;
    const int64_t *starts = indptr.buf;
    const int32_t *cols = indices.buf;
    const double *vals = data.buf, *w = weights.buf;
    double *y = out.buf;
    if (n_rows < 0 || k < 1 || items(&weights) != n_columns * k || items(&out) != n_rows * k
        || items(&indices) != items(&data) || starts[0] != 0 || starts[n_rows] != items(&data)) {
        PyErr_SetString(PyExc_ValueError, "csr_dot: arrays of inconsistent shapes");
        goto fail5;
    }
    for (Py_ssize_t i = 0; i < n_rows; i++) {
        if (starts[i] > starts[i + 1]) {
            PyErr_SetString(PyExc_ValueError, "csr_dot: indptr must not decrease");
            goto fail5;
        }
    }
    for (Py_ssize_t j = 0; j < items(&indices); j++) {
        if (cols[j] < 0 || cols[j] >= n_columns) {
            PyErr_SetString(PyExc_ValueError, "csr_dot: column index out of range");
            goto fail5;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n_rows; i++) {
        double *yi = y + i * k;
        for (int64_t j = starts[i]; j < starts[i + 1]; j++) {
            const double a = vals[j], *x = w + (Py_ssize_t)cols[j] * k;
            for (Py_ssize_t c = 0; c < k; c++)
                yi[c] += a * x[c];
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&out);
    PyBuffer_Release(&weights);
    PyBuffer_Release(&data);
    PyBuffer_Release(&indices);
    PyBuffer_Release(&indptr);
    Py_RETURN_NONE;
fail5:
    PyBuffer_Release(&out);
fail4:
    PyBuffer_Release(&weights);
fail3:
    PyBuffer_Release(&data);
fail2:
    PyBuffer_Release(&indices);
fail1:
    PyBuffer_Release(&indptr);
    return NULL;
}

/* ------------------------------------------------------------------ expit */

PyDoc_STRVAR(expit_doc, "expit(values)\n\nvalues (C-ordered float64) replaced by 1 / (1 + exp(-values)).");

static PyObject *expit(PyObject *self, PyObject *arg)
{
    Py_buffer values;
    if (get_buffer(arg, &values, 8, 1, "values") < 0)
        return NULL;
    double *v = values.buf;
    const Py_ssize_t n = items(&values);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++)
        v[i] = 1.0 / (1.0 + exp(-v[i]));
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&values);
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ walk_trees */

typedef struct {
    double split; /* the threshold of an inner node, the value of a leaf */
    int32_t feature, left, right;
    uint8_t missing_left;
} PackedNode;

#ifndef WALK_BLOCK_ROWS
#define WALK_BLOCK_ROWS 256
#endif

PyDoc_STRVAR(walk_trees_doc,
"walk_trees(X, n_features, feature, threshold, missing_left, left, right, value, roots, out, k)\n\n"
"Adds to out (C-ordered float64, n_rows x k) each tree's leaf value for each\n"
"row of X (C-ordered float64, n_rows x n_features), tree t adding to column\n"
"t % k, the trees in the order given. Nodes are parallel arrays: int32\n"
"feature, float64 threshold, uint8 missing_left, int32 left and right (-1 at\n"
"a leaf), float64 value; roots (int32) are the trees' first nodes. A row goes\n"
"left when its value is <= the threshold, or is NaN and missing_left is set.\n"
"Every child must come after its parent (so that a walk ends).");

static PyObject *walk_trees(PyObject *self, PyObject *args)
{
    Py_buffer x, feature, threshold, missing, left, right, value, roots, out;
    Py_buffer *const views[] = {&x, &feature, &threshold, &missing, &left, &right, &value, &roots, &out};
    static const Py_ssize_t sizes[] = {8, 4, 8, 1, 4, 4, 8, 4, 8};
    static const char *const names[] = {"X", "feature", "threshold", "missing_left", "left", "right", "value", "roots", "out"};
    Py_ssize_t n_features, k;
    if (tree_args(args, views, sizes, names, &n_features, &k) < 0)
        return NULL;
    int ok = 0;
    Py_ssize_t n_nodes = items(&feature), n_trees = items(&roots);
    Py_ssize_t n_rows = n_features > 0 ? items(&x) / n_features : 0;
    if (n_features < 1 || k < 1 || items(&x) != n_rows * n_features || items(&out) != n_rows * k
        || items(&threshold) != n_nodes || items(&missing) != n_nodes || items(&left) != n_nodes
        || items(&right) != n_nodes || items(&value) != n_nodes) {
        PyErr_SetString(PyExc_ValueError, "walk_trees: arrays of inconsistent shapes");
        goto done;
    }
    const int32_t *feat = feature.buf, *lo = left.buf, *hi = right.buf, *root = roots.buf;
    const double *thr = threshold.buf, *val = value.buf, *rows = x.buf;
    const uint8_t *miss = missing.buf;
    double *y = out.buf;
    /* the walk follows these unchecked: a bad index would read out of bounds, a cycle never end */
    for (Py_ssize_t t = 0; t < n_trees; t++) {
        if (root[t] < 0 || root[t] >= n_nodes) {
            PyErr_SetString(PyExc_ValueError, "walk_trees: root index out of range");
            goto done;
        }
    }
    for (Py_ssize_t i = 0; i < n_nodes; i++) {
        if (lo[i] == -1 && hi[i] == -1)
            continue;
        if (lo[i] <= i || hi[i] <= i || lo[i] >= n_nodes || hi[i] >= n_nodes || feat[i] < 0 || feat[i] >= n_features) {
            PyErr_SetString(PyExc_ValueError, "walk_trees: a node's child or feature index is out of range");
            goto done;
        }
    }
    /* each node packed in one struct, so that a step reads one cache line;
     * a leaf keeps its value where an inner node keeps its threshold */
    PackedNode *nodes = PyMem_Malloc((n_nodes > 0 ? n_nodes : 1) * sizeof(PackedNode));
    if (!nodes) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_nodes; i++) {
        nodes[i].feature = feat[i];
        nodes[i].left = lo[i];
        nodes[i].right = hi[i];
        nodes[i].missing_left = miss[i];
        nodes[i].split = lo[i] >= 0 ? thr[i] : val[i];
    }
    Py_BEGIN_ALLOW_THREADS
    /* a block of rows through one tree at a time: the tree stays in the
     * nearest cache, the block in the next; each output cell still adds
     * its trees' values in their given order */
    for (Py_ssize_t start = 0; start < n_rows; start += WALK_BLOCK_ROWS) {
        const Py_ssize_t stop = start + WALK_BLOCK_ROWS < n_rows ? start + WALK_BLOCK_ROWS : n_rows;
        for (Py_ssize_t t = 0; t < n_trees; t++) {
            const PackedNode *tree = nodes + root[t];
            const Py_ssize_t column = t % k;
            for (Py_ssize_t r = start; r < stop; r++) {
                const double *row = rows + r * n_features;
                const PackedNode *node = tree;
                while (node->left >= 0) {
                    const double v = row[node->feature];
                    node = nodes + ((isnan(v) ? node->missing_left : v <= node->split) ? node->left : node->right);
                }
                y[r * k + column] += node->split;
            }
        }
    }
    Py_END_ALLOW_THREADS
    PyMem_Free(nodes);
    ok = 1;
done:
    release_buffers(views, 9);
    if (ok)
        Py_RETURN_NONE;
    return NULL;
}

/* ------------------------------------------------------------------ score_trees */

PyDoc_STRVAR(score_trees_doc,
"score_trees(X, n_x, extra, n_extra, feature_start, threshold, missing_left, tree, keep, leaf_start, leaf_value, out, k)\n\n"
"Adds to out what walk_trees adds for the rows of X (n_x columns) followed\n"
"by those of extra (n_extra columns; the same rows), found by QuickScorer (Lucchese et al.,\n"
"SIGIR 2015) instead of by following each tree from its root: a row reads\n"
"each feature's splits in ascending order of threshold for as long as its\n"
"value exceeds them; each split it so goes right at clears the leaves of the\n"
"split's left subtree from the split's tree's bit set (keep: the bits that\n"
"stay), and the row's leaf in a tree is the lowest bit left. A NaN value goes\n"
"right at the splits without missing_left. Leaves are numbered from the\n"
"left, at most 64 to a tree.\n\n"
"Splits are parallel arrays ordered by feature, then threshold: float64\n"
"threshold, uint8 missing_left, int32 tree, uint64 keep; those of feature f\n"
"are feature_start[f]:feature_start[f + 1] (int64, n_x + n_extra + 1 items).\n"
"The leaves of tree t are leaf_value[leaf_start[t]:leaf_start[t + 1]] (int32\n"
"offsets, float64 values). Tree t adds to column t % k of out, the trees in\n"
"their order, as walk_trees adds.");

#define SCORE_MAX_LEAVES 64
/* rows scored together: they share each feature's splits up to the least of
 * their values, and their bit sets (8 bytes a tree each) stay in the nearest cache */
#define SCORE_LANES 4

typedef struct {
    double threshold;
    uint64_t keep;
    int32_t tree;
    uint8_t missing_left;
} Split;

/* Clears, in the lanes' bit sets, the leaves that the splits p..end rule out
 * for the lanes' values of one feature. */
static inline void score_feature(const Split *p, const Split *end, const double *values, uint64_t **bits, int lanes)
{
    double least = values[0];
    int missing = 0;
    for (int j = 0; j < lanes; j++) {
        missing |= isnan(values[j]);
        least = values[j] < least ? values[j] : least;
    }
    if (!missing) {
        for (; p < end && p->threshold < least; p++)
            for (int j = 0; j < lanes; j++)
                bits[j][p->tree] &= p->keep;
    }
    for (int j = 0; j < lanes; j++) {
        uint64_t *lane = bits[j];
        const double v = values[j];
        if (isnan(v)) {
            for (const Split *q = p; q < end; q++)
                if (!q->missing_left)
                    lane[q->tree] &= q->keep;
        } else {
            for (const Split *q = p; q < end && q->threshold < v; q++)
                lane[q->tree] &= q->keep;
        }
    }
}

static PyObject *score_trees(PyObject *self, PyObject *args)
{
    Py_buffer x, extra, fstart, threshold, missing, tree, keep, lstart, lvalue, out;
    Py_buffer *const views[] = {&x, &extra, &fstart, &threshold, &missing, &tree, &keep, &lstart, &lvalue, &out};
    static const Py_ssize_t sizes[] = {8, 8, 8, 8, 1, 4, 8, 4, 8, 8};
    static const char *const names[] = {"X", "extra", "feature_start", "threshold", "missing_left", "tree", "keep",
                                        "leaf_start", "leaf_value", "out"};
    PyObject *o[10];
    Py_ssize_t n_x, n_extra, k;
    if (!PyArg_ParseTuple(args, "OnOnOOOOOOOOn", &o[0], &n_x, &o[1], &n_extra, &o[2], &o[3], &o[4], &o[5], &o[6],
                          &o[7], &o[8], &o[9], &k))
        return NULL;
    if (get_buffers(o, views, sizes, names, 10) < 0)
        return NULL;
    Split *splits = NULL;
    uint64_t *initial = NULL, *bits = NULL;
    int ok = 0;
    const Py_ssize_t n_splits = items(&threshold), n_trees = items(&lstart) - 1;
    const Py_ssize_t n_features = n_x + n_extra;
    const Py_ssize_t n_rows = n_x > 0 ? items(&x) / n_x : (n_extra > 0 ? items(&extra) / n_extra : 0);
    if (n_x < 0 || n_extra < 0 || n_features < 1 || k < 1 || n_trees < 0 || items(&x) != n_rows * n_x
        || items(&extra) != n_rows * n_extra || items(&out) != n_rows * k
        || items(&fstart) != n_features + 1 || items(&missing) != n_splits || items(&tree) != n_splits
        || items(&keep) != n_splits) {
        PyErr_SetString(PyExc_ValueError, "score_trees: arrays of inconsistent shapes");
        goto done;
    }
    const int64_t *start = fstart.buf;
    const int32_t *owner = tree.buf, *first_leaf = lstart.buf;
    const double *leaf_value = lvalue.buf, *rows = x.buf, *extra_rows = extra.buf;
    double *y = out.buf;
    /* the loop follows these unchecked: every offset and tree index is checked first */
    if (check_offsets(start, n_features, n_splits, "score_trees: feature") < 0)
        goto done;
    if (first_leaf[0] != 0 || first_leaf[n_trees] != items(&lvalue)) {
        PyErr_SetString(PyExc_ValueError, "score_trees: leaf offsets out of range");
        goto done;
    }
    splits = PyMem_Malloc((n_splits > 0 ? n_splits : 1) * sizeof(Split));
    initial = PyMem_Malloc((n_trees > 0 ? n_trees : 1) * sizeof(uint64_t));
    bits = PyMem_Malloc((n_trees > 0 ? n_trees : 1) * SCORE_LANES * sizeof(uint64_t));
    if (!splits || !initial || !bits) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t t = 0; t < n_trees; t++) {
        const int64_t leaves = (int64_t)first_leaf[t + 1] - first_leaf[t];
        if (leaves < 1 || leaves > SCORE_MAX_LEAVES) {
            PyErr_SetString(PyExc_ValueError, "score_trees: a tree without leaves, or with more than 64");
            goto done;
        }
        initial[t] = leaves == 64 ? ~(uint64_t)0 : (((uint64_t)1 << leaves) - 1);
    }
    const double *thr = threshold.buf;
    const uint64_t *kept = keep.buf;
    const uint8_t *miss = missing.buf;
    for (Py_ssize_t i = 0; i < n_splits; i++) {
        if (owner[i] < 0 || owner[i] >= n_trees) {
            PyErr_SetString(PyExc_ValueError, "score_trees: a split's tree index out of range");
            goto done;
        }
        /* a bad keep could clear a tree's every leaf: each keeps at least its tree's last leaf */
        if (!(kept[i] & initial[owner[i]] & ~(initial[owner[i]] >> 1))) {
            PyErr_SetString(PyExc_ValueError, "score_trees: a split clears its tree's last leaf");
            goto done;
        }
        splits[i] = (Split){thr[i], kept[i], owner[i], miss[i]};
    }
    for (Py_ssize_t f = 0; f < n_features; f++) {
        for (int64_t i = start[f] + 1; i < start[f + 1]; i++) {
            if (!(thr[i - 1] <= thr[i])) {
                PyErr_SetString(PyExc_ValueError, "score_trees: a feature's thresholds out of order");
                goto done;
            }
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r0 = 0; r0 < n_rows; r0 += SCORE_LANES) {
        const int lanes = n_rows - r0 < SCORE_LANES ? (int)(n_rows - r0) : SCORE_LANES;
        uint64_t *lane_bits[SCORE_LANES];
        for (int j = 0; j < lanes; j++) {
            lane_bits[j] = bits + j * n_trees;
            memcpy(lane_bits[j], initial, n_trees * sizeof(uint64_t));
        }
        for (Py_ssize_t f = 0; f < n_features; f++) {
            if (start[f] == start[f + 1])
                continue;
            double values[SCORE_LANES];
            /* feature f is a column of X, or (past its columns) of extra */
            const double *column = f < n_x ? rows + f : extra_rows + (f - n_x);
            const Py_ssize_t stride = f < n_x ? n_x : n_extra;
            for (int j = 0; j < lanes; j++)
                values[j] = column[(r0 + j) * stride];
            score_feature(splits + start[f], splits + start[f + 1], values, lane_bits, lanes);
        }
        for (int j = 0; j < lanes; j++) {
            double *scores = y + (r0 + j) * k;
            const uint64_t *leaves = lane_bits[j];
            Py_ssize_t column = 0;
            for (Py_ssize_t t = 0; t < n_trees; t++) {
                /* never 0: every split keeps its tree's last leaf */
                scores[column] += leaf_value[first_leaf[t] + __builtin_ctzll(leaves[t])];
                if (++column == k)
                    column = 0;
            }
        }
    }
    Py_END_ALLOW_THREADS
    ok = 1;
done:
    PyMem_Free(splits);
    PyMem_Free(initial);
    PyMem_Free(bits);
    release_buffers(views, 10);
    if (ok)
        Py_RETURN_NONE;
    return NULL;
}

/* ------------------------------------------------------------------ match_phrases */

/* What a phrase's space matches: whitespace other than a line break ([^\S\n]). */
static inline int is_phrase_space(Py_UCS4 ch) { return ch != '\n' && Py_UNICODE_ISSPACE(ch); }

typedef struct {
    StrView text;
    const uint16_t *symbol_of; /* a BMP character's symbol (0: none) */
    const int64_t *first_edge;
    const uint16_t *edge_symbol;
    const int32_t *edge_child;
    const uint8_t *ends;
} Phrases;

static inline uint16_t symbol_at(const Phrases *ph, Py_ssize_t pos)
{
    const Py_UCS4 ch = PyUnicode_READ(ph->text.kind, ph->text.chars, pos);
    return ch < 0x10000 ? ph->symbol_of[ch] : 0;
}

/* Where the longest phrase that the trie's node ``node`` continues from
 * ``pos`` ends, followed by no word character; -1 if none. The edges are
 * tried in their order, deeper before an end, as a regex of the trie
 * written with greedy optional groups backtracks. */
static Py_ssize_t match_from(const Phrases *ph, int32_t node, Py_ssize_t pos)
{
    for (int64_t e = ph->first_edge[node]; e < ph->first_edge[node + 1]; e++) {
        if (ph->edge_symbol[e] == 0) { /* a space: one or more, the most first */
            Py_ssize_t run = 0;
            while (pos + run < ph->text.length && is_phrase_space(PyUnicode_READ(ph->text.kind, ph->text.chars, pos + run)))
                run++;
            for (; run > 0; run--) {
                const Py_ssize_t end = match_from(ph, ph->edge_child[e], pos + run);
                if (end >= 0)
                    return end;
            }
        } else if (pos < ph->text.length && symbol_at(ph, pos) == ph->edge_symbol[e]) {
            const Py_ssize_t end = match_from(ph, ph->edge_child[e], pos + 1);
            if (end >= 0)
                return end;
        }
    }
    if (ph->ends[node] && (pos == ph->text.length || !is_word_char(PyUnicode_READ(ph->text.kind, ph->text.chars, pos))))
        return pos;
    return -1;
}

PyDoc_STRVAR(match_phrases_doc,
"match_phrases(text, symbol_of, first_edge, edge_symbol, edge_child, ends) -> (starts, lengths)\n\n"
"The phrases of a trie in text, as a regular expression of the trie would\n"
"find them with finditer: not preceded or followed by a word character,\n"
"from left to right without overlapping, the longest (in the trie's order)\n"
"at each place. A character matches a symbol when symbol_of (uint16, 65,536\n"
"entries) maps it there (characters beyond them match none); symbol 0 is a\n"
"space, which matches one or more whitespace characters other than '\\n'.\n"
"The trie: node n's edges are first_edge[n]:first_edge[n + 1] (int64), each\n"
"with its symbol (uint16) and child (int32, after its node); ends (uint8)\n"
"marks the nodes where a phrase ends; node 0 is the root. The matches'\n"
"starts and lengths (int64, in characters) come as bytearrays.");

static PyObject *match_phrases(PyObject *self, PyObject *args)
{
    PyObject *text, *objects[5];
    if (!PyArg_ParseTuple(args, "UOOOOO", &text, &objects[0], &objects[1], &objects[2], &objects[3], &objects[4]))
        return NULL;
    Py_buffer symbol_of, first_edge, edge_symbol, edge_child, ends;
    Py_buffer *const views[] = {&symbol_of, &first_edge, &edge_symbol, &edge_child, &ends};
    static const Py_ssize_t sizes[] = {2, 8, 2, 4, 1};
    static const char *const names[] = {"symbol_of", "first_edge", "edge_symbol", "edge_child", "ends"};
    /* none is written: get_buffers asks the last for a writable buffer, so ask each alone */
    for (int i = 0; i < 5; i++) {
        if (get_buffer(objects[i], views[i], sizes[i], 0, names[i]) < 0) {
            release_buffers(views, i);
            return NULL;
        }
    }
    Growable starts = {NULL, 0, 0, sizeof(int64_t)}, lengths = {NULL, 0, 0, sizeof(int64_t)};
    Growable *const matches[] = {&starts, &lengths};
    PyObject *result = NULL;
    const Py_ssize_t n_nodes = items(&ends), n_edges = items(&edge_symbol);
    const int64_t *first = first_edge.buf;
    const int32_t *child = edge_child.buf;
    if (items(&symbol_of) != 0x10000 || n_nodes < 1 || items(&first_edge) != n_nodes + 1
        || items(&edge_child) != n_edges) {
        PyErr_SetString(PyExc_ValueError, "match_phrases: arrays of inconsistent shapes");
        goto done;
    }
    /* the recursion follows these unchecked: edges in range, every child after its node (so that it ends) */
    if (check_offsets(first, n_nodes, n_edges, "match_phrases: edge") < 0)
        goto done;
    for (Py_ssize_t n = 0; n < n_nodes; n++) {
        for (int64_t e = first[n]; e < first[n + 1]; e++) {
            if (child[e] <= n || child[e] >= n_nodes) {
                PyErr_SetString(PyExc_ValueError, "match_phrases: an edge's child out of range");
                goto done;
            }
        }
    }
    const Phrases ph = {{PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)}, symbol_of.buf,
                        first, edge_symbol.buf, child, ends.buf};
    for (Py_ssize_t pos = 0; pos < ph.text.length;) {
        const Py_ssize_t end =
            pos > 0 && is_word_char(PyUnicode_READ(ph.text.kind, ph.text.chars, pos - 1)) ? -1 : match_from(&ph, 0, pos);
        if (end > pos) {
            if (grow(&starts, 1) < 0 || grow(&lengths, 1) < 0)
                goto done;
            ((int64_t *)starts.data)[starts.size++] = pos;
            ((int64_t *)lengths.data)[lengths.size++] = end - pos;
            pos = end;
        } else {
            pos++;
        }
    }
    result = bytearrays(NULL, matches, 2);
done:
    free_growables(matches, 2);
    release_buffers(views, 5);
    return result;
}

/* ------------------------------------------------------------------ line_counts */

/* A code point's classes, as lineclf.features.text's lookup tables hold them
 * (exported to Python under these names, so the tables and this loop agree). */
enum {
    CHAR_LETTER = 1 << 0, CHAR_UPPER = 1 << 1, CHAR_LOWER = 1 << 2, CHAR_DIGIT = 1 << 3,
    CHAR_SPACE = 1 << 4, CHAR_PUNCT = 1 << 5, CHAR_SYMBOL = 1 << 6,
};
/* the characters the punctuation features count, as bits of the second table */
enum {
    MARK_SENTENCE_END = 1 << 0, MARK_SEPARATOR = 1 << 1, MARK_QUOTE = 1 << 2, MARK_PAREN = 1 << 3, MARK_SPECIAL = 1 << 4,
    MARK_CODE = 1 << 5,
};

/* the columns of line_counts, in the order of LINE_COUNT_COLUMNS */
enum {
    COUNT_LETTERS, COUNT_ALNUM, COUNT_PUNCT, COUNT_SYMBOL, COUNT_DIGIT, COUNT_UPPER, COUNT_WORDS, COUNT_TITLED,
    COUNT_LOWERED, COUNT_SEPARATORS, COUNT_QUOTES, COUNT_PARENS, COUNT_SPECIAL, COUNT_COLONS, COUNT_COMMAS,
    COUNT_SENTENCES, COUNT_CODE_MARKS, COUNT_SLASHES, COUNT_MAYBE_DIGIT, COUNT_CASE_RISKY, COUNT_FIRST_VISIBLE,
    COUNT_LAST_VISIBLE, N_COUNTS
};
static const char *const count_columns[N_COUNTS] = {
    "letters", "alnum", "punct", "symbol", "digit", "upper", "words", "titled", "lowered", "separators",
    "quotes", "parens", "special", "colons", "commas", "sentences", "code_marks", "slashes", "maybe_digit", "case_risky",
    "first_visible", "last_visible",
};

#define TABLE_SIZE 0x10000

PyDoc_STRVAR(line_counts_doc,
"line_counts(codes, starts, lengths, document_end, classes, marks, case_risk, out)\n\n"
"One pass over the code points of lines joined by newlines (uint32 codes;\n"
"line i is codes[starts[i]:starts[i] + lengths[i]], int64 offsets): for each\n"
"line, into row i of out (C-ordered int64, n_lines x len(LINE_COUNT_COLUMNS)),\n"
"its characters of each class (the uint8 tables classes, marks and case_risk,\n"
"65,536 entries each, give a code point's CHAR_* and MARK_* bits and whether\n"
"case-insensitive matching may hide a cue there; beyond them a character is a\n"
"symbol and case-risky), its words (runs of visible characters: neither\n"
"space nor unclassified), those starting upper- and lower-case, its sentence\n"
"ends (MARK_SENTENCE_END followed by a space, or ending a line whose\n"
"document_end is set: the line is its page's last), its MARK_CODE characters\n"
"and slashes, its characters that may be a decimal digit (CHAR_DIGIT, or\n"
"beyond the tables), and the positions of its first and last visible\n"
"characters (len(codes) and -1 when it has none).");

static PyObject *line_counts(PyObject *self, PyObject *args)
{
    PyObject *objects[8];
    if (!PyArg_ParseTuple(args, "OOOOOOOO", &objects[0], &objects[1], &objects[2], &objects[3], &objects[4],
                          &objects[5], &objects[6], &objects[7]))
        return NULL;
    Py_buffer codes, starts, lengths, document_end, classes, marks, risk, out;
    Py_buffer *const views[] = {&codes, &starts, &lengths, &document_end, &classes, &marks, &risk, &out};
    const Py_ssize_t sizes[] = {4, 8, 8, 1, 1, 1, 1, 8};
    const char *const names[] = {"codes", "starts", "lengths", "document_end", "classes", "marks", "case_risk", "out"};
    if (get_buffers(objects, views, sizes, names, 8) < 0)
        return NULL;
    int ok = 0;
    const Py_ssize_t n_codes = items(&codes), n_lines = items(&starts);
    if (items(&lengths) != n_lines || items(&document_end) != n_lines || items(&out) != n_lines * N_COUNTS
        || items(&classes) != TABLE_SIZE || items(&marks) != TABLE_SIZE || items(&risk) != TABLE_SIZE) {
        PyErr_SetString(PyExc_ValueError, "line_counts: arrays of inconsistent shapes");
        goto done;
    }
    const uint32_t *cp = codes.buf;
    const int64_t *start = starts.buf, *length = lengths.buf;
    const uint8_t *last_of_page = document_end.buf, *class_of = classes.buf, *mark_of = marks.buf,
                  *risk_of = risk.buf;
    int64_t *row = out.buf;
    for (Py_ssize_t i = 0; i < n_lines; i++) {
        if (start[i] < 0 || length[i] < 0 || start[i] > n_codes || length[i] > n_codes - start[i]) {
            PyErr_SetString(PyExc_ValueError, "line_counts: a line out of the codes' range");
            goto done;
        }
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n_lines; i++, row += N_COUNTS) {
        int64_t c[N_COUNTS] = {0};
        c[COUNT_FIRST_VISIBLE] = n_codes;
        c[COUNT_LAST_VISIBLE] = -1;
        const int64_t begin = start[i], end = start[i] + length[i];
        int previous_visible = 0;
        for (int64_t pos = begin; pos < end; pos++) {
            const uint32_t code = cp[pos];
            const int in_table = code < TABLE_SIZE;
            const uint8_t f = in_table ? class_of[code] : CHAR_SYMBOL, m = in_table ? mark_of[code] : 0;
            const int visible = f && !(f & CHAR_SPACE);
            const int word_start = visible && !previous_visible;
            previous_visible = visible;
            c[COUNT_LETTERS] += (f & CHAR_LETTER) != 0;
            c[COUNT_ALNUM] += (f & (CHAR_LETTER | CHAR_DIGIT)) != 0;
            c[COUNT_PUNCT] += (f & CHAR_PUNCT) != 0;
            c[COUNT_SYMBOL] += (f & CHAR_SYMBOL) != 0;
            c[COUNT_DIGIT] += (f & CHAR_DIGIT) != 0;
            c[COUNT_UPPER] += (f & CHAR_UPPER) != 0;
            c[COUNT_WORDS] += word_start;
            c[COUNT_TITLED] += word_start && (f & CHAR_UPPER);
            c[COUNT_LOWERED] += word_start && (f & CHAR_LOWER);
            c[COUNT_SEPARATORS] += (m & MARK_SEPARATOR) != 0;
            c[COUNT_QUOTES] += (m & MARK_QUOTE) != 0;
            c[COUNT_PARENS] += (m & MARK_PAREN) != 0;
            c[COUNT_SPECIAL] += (m & MARK_SPECIAL) != 0;
            c[COUNT_COLONS] += code == ':';
            c[COUNT_COMMAS] += code == ',';
            c[COUNT_CODE_MARKS] += (m & MARK_CODE) != 0;
            c[COUNT_SLASHES] += code == '/';
            c[COUNT_MAYBE_DIGIT] += (f & CHAR_DIGIT) || !in_table;
            c[COUNT_CASE_RISKY] += !in_table || risk_of[code];
            if (visible) {
                if (c[COUNT_FIRST_VISIBLE] == n_codes)
                    c[COUNT_FIRST_VISIBLE] = pos;
                c[COUNT_LAST_VISIBLE] = pos;
            }
            if (m & MARK_SENTENCE_END) {
                int space_follows;
                if (pos + 1 < end) {
                    const uint32_t next = cp[pos + 1];
                    space_follows = (next < TABLE_SIZE ? class_of[next] : CHAR_SYMBOL) & CHAR_SPACE;
                } else {
                    space_follows = last_of_page[i]; /* the newline after a line is no space */
                }
                c[COUNT_SENTENCES] += space_follows != 0;
            }
        }
        memcpy(row, c, sizeof(c));
    }
    Py_END_ALLOW_THREADS
    ok = 1;
done:
    release_buffers(views, 8);
    if (ok)
        Py_RETURN_NONE;
    return NULL;
}

static int add_line_count_names(PyObject *module)
{
    PyObject *columns = PyTuple_New(N_COUNTS);
    if (!columns)
        return -1;
    for (int i = 0; i < N_COUNTS; i++) {
        PyObject *name = PyUnicode_FromString(count_columns[i]);
        if (!name) {
            Py_DECREF(columns);
            return -1;
        }
        PyTuple_SET_ITEM(columns, i, name);
    }
    if (PyModule_AddObject(module, "LINE_COUNT_COLUMNS", columns) < 0) {
        Py_DECREF(columns);
        return -1;
    }
    const struct { const char *name; long value; } constants[] = {
        {"CHAR_LETTER", CHAR_LETTER}, {"CHAR_UPPER", CHAR_UPPER}, {"CHAR_LOWER", CHAR_LOWER},
        {"CHAR_DIGIT", CHAR_DIGIT}, {"CHAR_SPACE", CHAR_SPACE}, {"CHAR_PUNCT", CHAR_PUNCT},
        {"CHAR_SYMBOL", CHAR_SYMBOL}, {"MARK_SENTENCE_END", MARK_SENTENCE_END},
        {"MARK_SEPARATOR", MARK_SEPARATOR}, {"MARK_QUOTE", MARK_QUOTE}, {"MARK_PAREN", MARK_PAREN},
        {"MARK_SPECIAL", MARK_SPECIAL}, {"MARK_CODE", MARK_CODE},
    };
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++) {
        if (PyModule_AddIntConstant(module, constants[i].name, constants[i].value) < 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ module */

static PyMethodDef methods[] = {
    {"hash_lines", hash_lines, METH_VARARGS, hash_lines_doc},
    {"word_bits", word_bits, METH_VARARGS, word_bits_doc},
    {"line_hashes", line_hashes, METH_VARARGS, line_hashes_doc},
    {"match_phrases", match_phrases, METH_VARARGS, match_phrases_doc},
    {"csr_dot", csr_dot, METH_VARARGS, csr_dot_doc},
    {"expit", expit, METH_O, expit_doc},
    {"walk_trees", walk_trees, METH_VARARGS, walk_trees_doc},
    {"score_trees", score_trees, METH_VARARGS, score_trees_doc},
    {"line_counts", line_counts, METH_VARARGS, line_counts_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "lineclf._native", "Compiled loops of lineclf's features and prediction.", -1, methods,
};

PyMODINIT_FUNC PyInit__native(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m && add_line_count_names(m) < 0)
        Py_CLEAR(m);
    return m;
}
