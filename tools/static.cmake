# SPDX-License-Identifier: MIT
# tools/static.cmake - keelctl-static: the keelctl program linked with no
# shared library at all, so it runs as it is in a control domain's busybox
# initramfs (tests/linux/ctl) or any Linux without the build's libraries.
#
# It is rebuilt from the very sources, include directories and definitions
# of every library keelctl links (found by walking its link closure, so a
# library added to keelctl later is picked up), without the sanitizers:
# AddressSanitizer cannot link statically. Third-party libraries (zlib and
# the like) are linked by name, from their Debian .a files.

# The targets keelctl links, in link order, and the plain libraries after them.
function(keelctl_link_closure target out_targets out_libs)
    set(targets "")
    set(libs "")
    set(queue ${target})
    while(queue)
        list(POP_FRONT queue t)
        if(NOT TARGET ${t})
            if(t MATCHES "(^|/)lib([^/]+)\\.(so|a)$")
                list(APPEND libs ${CMAKE_MATCH_2})
            elseif(NOT t MATCHES "^-|^\\$<")
                list(APPEND libs ${t})
            endif()
            continue()
        endif()
        get_target_property(type ${t} TYPE)
        if(type STREQUAL "INTERFACE_LIBRARY")
            continue()	# flags only: its usage requirements come with each library
        endif()
        if(NOT t IN_LIST targets)
            list(APPEND targets ${t})
        endif()
        get_target_property(deps ${t} LINK_LIBRARIES)
        if(deps)
            list(APPEND queue ${deps})
        endif()
    endwhile()
    list(REMOVE_DUPLICATES libs)
    set(${out_targets} ${targets} PARENT_SCOPE)
    set(${out_libs} ${libs} PARENT_SCOPE)
endfunction()

keelctl_link_closure(keelctl static_targets static_libs)
keel_nosan_objects(static_objects ${static_targets})

add_executable(keelctl-static ${static_objects})
set_target_properties(keelctl-static PROPERTIES LINKER_LANGUAGE C)
target_link_options(keelctl-static PRIVATE -static)
target_link_libraries(keelctl-static PRIVATE ${static_libs})
