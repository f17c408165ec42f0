# SPDX-License-Identifier: MIT
# tools/nosan.cmake - the sanitizer-free object copies of tool libraries that
# the static programs (keelctl-static, keel-backendd-static) are linked from:
# AddressSanitizer cannot link statically. Each library's copy is made once,
# however many static programs use it.

# Set @out_var to the objects of @ARGN's libraries, rebuilt from the very
# sources, include directories and definitions, without the sanitizers.
function(keel_nosan_objects out_var)
    set(objects "")
    foreach(t ${ARGN})
        if(NOT TARGET ${t}-nosan)
            get_target_property(srcs ${t} SOURCES)
            get_target_property(dir ${t} SOURCE_DIR)
            set(abs "")
            foreach(src ${srcs})
                get_filename_component(src ${src} ABSOLUTE BASE_DIR ${dir})
                list(APPEND abs ${src})
            endforeach()
            add_library(${t}-nosan OBJECT ${abs})
            # The original's transitive include directories, definitions and options, minus sanitizers.
            target_include_directories(${t}-nosan PRIVATE $<TARGET_PROPERTY:${t},INCLUDE_DIRECTORIES>)
            target_compile_definitions(${t}-nosan PRIVATE $<TARGET_PROPERTY:${t},COMPILE_DEFINITIONS>)
            # -Wmaybe-uninitialized is checked by the sanitized build; without the
            # sanitizers GCC loses track of values set through `rc = rc ? rc : f(&x)`
            # chains and warns falsely.
            target_compile_options(${t}-nosan PRIVATE
                $<FILTER:$<TARGET_PROPERTY:${t},COMPILE_OPTIONS>,EXCLUDE,sanitize>
                -Wno-maybe-uninitialized)
        endif()
        list(APPEND objects $<TARGET_OBJECTS:${t}-nosan>)
    endforeach()
    set(${out_var} ${objects} PARENT_SCOPE)
endfunction()
