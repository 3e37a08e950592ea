/*
 * cppcheck-jansson.h: scripts/lint passes this to cppcheck with --include,
 * because cppcheck does not read system headers and would otherwise stop at
 * jansson's iteration macros ("unknownMacro"). Same shape as jansson.h's
 * definitions, so the loop bodies are analysed; nothing compiles this file.
 */
#define json_array_foreach(array, index, value) \
    for ((index) = 0; (index) < json_array_size(array) && ((value) = json_array_get(array, index)); (index)++)
#define json_object_foreach(object, key, value) \
    for ((key) = json_object_iter_key(json_object_iter(object)); \
         (key) && ((value) = json_object_iter_value(json_object_key_to_iter(key))); \
         (key) = json_object_iter_key(json_object_iter_next(object, json_object_key_to_iter(key))))
#define json_object_foreach_safe(object, n, key, value) \
    for ((key) = json_object_iter_key(json_object_iter(object)), (n) = json_object_iter_next(object, json_object_key_to_iter(key)); \
         (key) && ((value) = json_object_iter_value(json_object_key_to_iter(key))); \
         (key) = json_object_iter_key(n), (n) = json_object_iter_next(object, json_object_key_to_iter(key)))
#define json_array_foreach_safe json_array_foreach
